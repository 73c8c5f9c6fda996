// The README's two commands on a fresh minimal Debian 12 (debootstrap --variant=minbase, nothing
// added), from a plain checkout under /root, as a new user runs them: scripts/setup.sh first with the
// host's network (it installs packages, brings Node.js, runs npm ci), then each command exactly as
// the README writes it, in a network namespace of the chroot's own (loopback only: setup.sh's second
// run needs no network; the demo's and the tests' namespaces and their net.* sysctls are theirs, never
// the host's). What this protects: a command the demo or a test calls that setup.sh does not install
// (procps' sysctl was one) fails here, not on a new user's machine.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { trustHostCertificates, workspace } from './container.js';
import { plainCheckout } from './checkout.js';
import { ensureRoot, MINIMAL_ROOT } from './rootfs.js';

const CHECKOUT = '/root/vpsfw';
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
/** The two commands, as the README's "Try it" block writes them. */
const COMMANDS = [...readme.matchAll(/^(scripts\/setup\.sh && npm (?:run demo|test))\s/gm)].map((m) => m[1]!);

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(0)} s`;
const tail = (s: string) => s.slice(-4000);

t.test('the README\'s two commands in a fresh minimal Debian 12 root', async (t) => {
  t.same(COMMANDS, ['scripts/setup.sh && npm run demo', 'scripts/setup.sh && npm test'], 'the README has the two commands');
  const hostFirewall = () => execFileSync('sh', ['-c', 'iptables-save; ip6tables-save; ipset list -n'], { encoding: 'utf8' }).replace(/^#.*$/gm, '').replace(/\[\d+:\d+\]/g, '');
  const hostBefore = hostFirewall();
  const root = await ensureRoot({ kind: MINIMAL_ROOT, onBuild: (ms) => t.comment(`debootstrap --variant=minbase: ${(ms / 1000).toFixed(1)} s`) });
  const ws = workspace(root);
  t.teardown(() => ws.destroy());
  await ws.copyIn([plainCheckout(t)], '/root');
  await trustHostCertificates(ws);

  const bare = await ws.chroot('sh', ['-c', 'command -v sysctl node npm; true']);
  t.equal(bare.stdout.trim(), '', 'a bare root: no sysctl, no node, no npm');

  let started = Date.now();
  const setup = await ws.chroot('bash', ['-c', `cd ${CHECKOUT} && scripts/setup.sh`], { timeoutMs: 1_800_000 });
  t.equal(setup.code, 0, `scripts/setup.sh with the network (${seconds(started)})`, { stdout: tail(setup.stdout), stderr: tail(setup.stderr) });
  if (setup.code !== 0) return;
  t.comment(`setup.sh, first run: ${seconds(started)}`);
  const which = await ws.chroot('sh', ['-c', 'readlink -f "$(command -v node)"; node --version; readlink /usr/local/bin/vpsfw; vpsfw --version']);
  t.match(which.stdout, /^\/usr\/local\/lib\/vpsfw-node\/[\d.]+\/bin\/node\nv(22|24)\.\d+\.\d+\n/, 'on the pinned LTS Node.js, brought by setup.sh (Debian 12 has 18)');
  t.match(which.stdout, new RegExp(`\\n${CHECKOUT}/bin/vpsfw\\.js\\nvpsfw \\d+\\.\\d+\\.\\d+ \\(Node\\.js (22|24)\\.`), 'vpsfw on the PATH, this checkout\'s');

  for (const command of COMMANDS) {
    started = Date.now();
    const r = await ws.chroot('bash', ['-c', `cd ${CHECKOUT} && ${command}`], { isolated: true, timeoutMs: 3_000_000 });
    t.equal(r.code, 0, `${command} (${seconds(started)}), with no network`, { stdout: tail(r.stdout), stderr: tail(r.stderr) });
    t.comment(`${command}: ${seconds(started)}`);
    if (command.endsWith('demo')) t.match(r.stdout, /all \d+ scenes went as expected/, 'every scene of the demo as expected');
    else t.match(r.stdout, /# \{ total: \d+, pass: \d+(, skip: \d+)? \}/, 'no test failed');
    t.notMatch(r.stdout + r.stderr, /setup\.sh: installing|bringing Node/, 'setup.sh\'s second run installed nothing');
  }
  t.equal(hostFirewall(), hostBefore, 'the host firewall was never touched');
});
