// The full agent (what `vpsfw run` runs: kernel rules, engine, bans, control socket) on a chosen
// queue backend, so the benchmark can compare backends under the same policy.
// Usage: node agent.js nfqueue|native POLICY_FILE CONTROL_PATH STATE_DIR [HTTP_ADDR:PORT]
import { runDaemon } from '../../agent/dist/daemon.js';
import { parseListen } from '../../agent/dist/http/listen.js';
import { createLogger } from '../../agent/dist/log/logger.js';
import { NativeQueue } from '../../agent/dist/queue/native.js';
import { NfqueueBindingQueue } from './nfqueue-queue.js';

const [backend, policy, controlPath, stateDir, http] = process.argv.slice(2);
const backends = { nfqueue: (o) => new NfqueueBindingQueue(o), native: (o) => new NativeQueue(o) };
if (!backends[backend] || !stateDir) {
  console.error('usage: node agent.js nfqueue|native POLICY_FILE CONTROL_PATH STATE_DIR');
  process.exit(2);
}
const log = createLogger('info');
await runDaemon({ policy: { file: policy }, controlPath, stateDir, debug: false, log, openQueue: backends[backend], http: http ? parseListen(http) : undefined });
log.flush();
// The nfqueue binding keeps a handle it cannot close.
setImmediate(() => process.exit(0));
