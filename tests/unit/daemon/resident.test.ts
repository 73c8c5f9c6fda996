// What the daemon's own modules load before any policy asks for more: no HTTPS stack (the
// CrowdSec client loads it with a crowdsec section: 8 MiB on Node.js 24). In a fresh process, as
// the agent starts.
import t from 'tap';
import { spawnSync } from 'node:child_process';

const DAEMON = new URL('../../../agent/src/daemon.ts', import.meta.url).href;

t.test('the daemon loads neither node:https nor node:tls', async (t) => {
  const script = `await import(${JSON.stringify(DAEMON)}); process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => /\\b(https|tls|_tls_wrap)\\b/.test(m))));`;
  const r = spawnSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), []);
});
