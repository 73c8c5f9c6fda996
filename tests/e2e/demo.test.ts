// `npm run demo` as the README runs it: every scene as expected, the table within 100 columns,
// nothing left behind in the kernel.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { PREFIX } from '../../agent/src/demo/lab.js';

t.setTimeout(600_000);

t.test('the demo: every scene as expected, a table that fits 100 columns, nothing left', async (t) => {
  const r = spawnSync(process.execPath, [new URL('../../bin/vpsfw.js', import.meta.url).pathname, 'demo'], { encoding: 'utf8', timeout: 540_000, env: { ...process.env, NODE_OPTIONS: '' } });
  t.equal(r.status, 0, 'exit 0', { stderr: r.stderr });
  t.match(r.stdout, /^all 7 scenes went as expected$/m);
  const wide = r.stdout.split('\n').filter((l) => [...l].length > 100);
  t.same(wide, [], 'no line wider than 100 columns');
  for (const scene of ['SYN flood', 'ICMP echo flood', 'oversized ping', 'port scan', 'payload on port 80', 'app on port 2222 leaks']) t.match(r.stdout, scene);
  // Its namespaces are named for its process (agent/src/demo/lab.ts).
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`${PREFIX}${r.pid}x`));
  t.same(left, [], "the demo's namespaces are gone");
});
