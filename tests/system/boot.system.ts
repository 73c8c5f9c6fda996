// The harness itself: the cached Debian root boots systemd as PID 1 in its own namespaces, answers
// systemctl, reaches the client namespace over the veth pair (v4 and v6), and leaves nothing behind.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { workspace } from './container.js';
import { ensureRoot } from './rootfs.js';

t.test('the container boots, answers systemctl, pings the client, and is torn down', async (t) => {
  const root = await ensureRoot({ onBuild: (ms) => t.comment(`debootstrap: ${(ms / 1000).toFixed(1)} s`) });
  const hostNetns = execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }).trim();
  const c = await workspace(root).boot();
  t.teardown(() => c.destroy());
  t.comment(`boot: ${c.bootSeconds.toFixed(1)} s`);

  const state = (await c.status('systemctl', ['is-system-running'])).stdout.trim();
  t.match(state, /^(running|degraded)$/, `systemd is up (${state})`);
  if (state === 'degraded') t.comment((await c.status('systemctl', ['--failed', '--no-legend'])).stdout);
  t.equal((await c.exec('cat', ['/proc/1/comm'])).stdout.trim(), 'systemd', 'systemd is PID 1 inside');
  const netns = (await c.exec('readlink', ['/proc/1/ns/net'])).stdout.trim();
  t.not(netns, hostNetns, 'the container has its own network namespace');

  t.equal((await c.client.status('ping', ['-c1', '-W2', c.client.server4])).code, 0, 'client pings the container (v4)');
  t.equal((await c.client.status('ping', ['-6', '-c1', '-W2', c.client.server6])).code, 0, 'client pings the container (v6)');
  t.equal((await c.status('ping', ['-c1', '-W2', c.client.ip4])).code, 0, 'the container pings the client');

  const { runDir } = c;
  const ns = c.client.ns;
  await c.destroy();
  t.notOk(existsSync(runDir), 'the run\'s overlay is gone');
  t.notMatch(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), ns, 'the client namespace is gone');
});
