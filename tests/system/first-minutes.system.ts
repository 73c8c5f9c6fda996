// The README's two commands on a fresh minimal Debian 12 (debootstrap --variant=minbase, nothing
// added), from a plain checkout under /root, as a new user runs them, each exactly as the README
// writes it, in a chroot with the host's network (as the user's machine has one: setup.sh installs
// packages, brings Node.js and runs npm ci; one test packs every package of the lock) and writable
// net.* sysctls (the demo and the tests set them in the network namespaces they make, inside the
// chroot: that works there, and is checked here). What this protects: a command the demo or a test
// calls that setup.sh does not install (procps' sysctl was one) fails here, not on a new user's machine.
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
  // Debian's way to keep packages from starting their daemons in a chroot (setup.sh installs
  // openssh-server and fail2ban): here they would listen in the host's network namespace.
  await ws.writeFile('/usr/sbin/policy-rc.d', '#!/bin/sh\nexit 101\n');
  t.equal((await ws.chroot('chmod', ['755', '/usr/sbin/policy-rc.d'])).code, 0, 'no daemon starts in the chroot');

  const bare = await ws.chroot('sh', ['-c', 'command -v sysctl node npm; true']);
  t.equal(bare.stdout.trim(), '', 'a bare root: no sysctl, no node, no npm');

  for (const [i, command] of COMMANDS.entries()) {
    const started = Date.now();
    const r = await ws.chroot('bash', ['-c', `cd ${CHECKOUT} && ${command}`], { netSysctls: true, timeoutMs: 3_000_000 });
    t.equal(r.code, 0, `${command} (${seconds(started)})`, { stdout: tail(r.stdout), stderr: tail(r.stderr) });
    t.comment(`${command}: ${seconds(started)}`);
    // The tail alone loses which test failed when the report ends with the summary: name them all.
    for (const line of r.stdout.split('\n').filter((l) => /^\s*not ok /.test(l))) t.comment(`in the root: ${line.trim()}`);
    if (command.endsWith('demo')) t.match(r.stdout, /all \d+ scenes went as expected/, 'every scene of the demo as expected');
    else t.match(r.stdout, /# \{ total: \d+, pass: \d+(, skip: \d+)? \}/, 'no test failed');
    if (i === 0) t.match(r.stdout, /setup\.sh: bringing Node\.js/, 'the first setup.sh brought Node.js');
    else t.notMatch(r.stdout + r.stderr, /setup\.sh: installing|bringing Node/, 'the second setup.sh installed nothing');
    if (r.code !== 0) return;
  }
  const which = await ws.chroot('sh', ['-c', 'readlink -f "$(command -v node)"; node --version; readlink /usr/local/bin/vpsfw; vpsfw --version']);
  t.match(which.stdout, /^\/usr\/local\/lib\/vpsfw-node\/[\d.]+\/bin\/node\nv(22|24)\.\d+\.\d+\n/, 'the demo and the tests ran on the pinned LTS Node.js, brought by setup.sh (Debian 12 has 18)');
  t.match(which.stdout, new RegExp(`\\n${CHECKOUT}/bin/vpsfw\\.js\\nvpsfw \\d+\\.\\d+\\.\\d+ \\(Node\\.js (22|24)\\.`), 'vpsfw on the PATH, this checkout\'s');

  t.equal(hostFirewall(), hostBefore, 'the host firewall was never touched');
});
