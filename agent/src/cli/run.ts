import { runDaemon } from '../daemon.js';
import { DEFAULT_CONTROL_PATH, DEFAULT_STATE_DIR } from '../control/protocol.js';
import { UsageError } from '../errors.js';
import { parseListen } from '../http/listen.js';
import { createLogger } from '../log/logger.js';
import { controlOption, parse, policyOption, type Io } from './args.js';

const cmd = {
  usage: `usage: vpsfw run [--policy FILE] [--control PATH] [--state-dir DIR] [--keep-rules] [--audit]
                 [--http ADDR:PORT] [--debug] [--pcap FILE]

Runs the agent in the foreground (systemd runs it so): applies the kernel rules, judges the packets
the kernel queues, logs one JSON line per event on stdout.
  --policy FILE    policy to enforce (default: the built-in policy; cosmiconfig is not searched, so
                   a service never picks up a file from its working directory)
  --control PATH   control socket (default ${DEFAULT_CONTROL_PATH})
  --state-dir DIR  where bans persist (default ${DEFAULT_STATE_DIR})
  --keep-rules     at exit, leave the rules, sets and bans in force: they belong to whoever applied
                   them (the vpsfw-rules unit: \`vpsfw apply\`, removed by \`vpsfw cleanup\`), so a
                   restart or a crash of the agent never opens the host
  --audit          audit mode whatever the policy says: judge everything, enforce nothing (every
                   packet goes on, no ban reaches the kernel), log would-drop, would-reject and
                   would-ban; under systemd set the policy's \`mode: "audit"\` instead, so the
                   rules unit renders the same
  --http ADDR:PORT serve GET /metrics and the dashboard there, behind the token \`vpsfw dashboard\`
                   prints (over the policy's http.listen; beyond loopback only if http.allowFrom
                   says so), e.g. 127.0.0.1:9469 or [::1]:9469
  --debug          print every judged packet on one line (stderr)
  --pcap FILE      write every judged packet to a pcap file
Signals: SIGHUP reloads the policy (a bad one is refused, the running one kept); SIGTERM/SIGINT
let a reload in flight finish, then remove every rule and set the agent added (not with
--keep-rules) and exit 0.`,
  options: { ...policyOption, ...controlOption, 'state-dir': { type: 'string' }, 'keep-rules': { type: 'boolean' }, audit: { type: 'boolean' }, http: { type: 'string' }, debug: { type: 'boolean' }, pcap: { type: 'string' } },
} as const;

export default async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const http = values.http === undefined ? undefined : parseListen(values.http);
  if (http === null) throw new UsageError(`--http: expected an address and a port such as 127.0.0.1:9469 or [::1]:9469 (got "${values.http}")`);
  const log = createLogger('info');
  try {
    await runDaemon({
      policy: { file: values.policy },
      controlPath: values.control ?? DEFAULT_CONTROL_PATH,
      stateDir: values['state-dir'] ?? DEFAULT_STATE_DIR,
      debug: values.debug ?? false,
      keepRules: values['keep-rules'] ?? false,
      audit: values.audit ?? false,
      pcap: values.pcap,
      http,
      log,
    });
  } catch (err) {
    log.fatal({ event: 'fatal', err }, (err as Error).message);
    log.flush();
    throw err;
  }
  log.flush();
  return 0;
}
