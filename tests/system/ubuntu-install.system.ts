// The Ubuntu path under real systemd: agent/packaging/ubuntu/install.sh installs the agent into a
// Debian 12 root as a user would (first through a plain chroot with the host's network and
// --no-start, then booted, with no flags), and the installed unit is proven by running it: hardening
// in force, rules in the kernel, real packets from a client namespace, bans across reload, restart
// and SIGKILL, an idempotent re-run, and an uninstall that leaves nothing.
// Invariant this protects: a hardened unit that cannot run (Node 20 killed with SIGSYS under
// SystemCallFilter=@system-service without @pkey) fails here, not on a user's server.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspace, type Container } from './container.js';
import { ensureRoot } from './rootfs.js';

const REPO = join(import.meta.dirname, '..', '..');
const INSTALLER = 'agent/packaging/ubuntu/install.sh';
/** Where the checkout is copied in the root; the installer runs from there, as a user's clone would. */
const CHECKOUT = '/root/checkout';
const POLICY = '/etc/vpsfw/policy.json';

const rules = (ports: number[]) => [
  { name: 'ssh', action: 'accept', protocol: 'tcp', ports: [22] },
  { name: 'web', action: 'accept', protocol: 'tcp', ports },
  { name: 'ping', action: 'accept', protocol: 'icmp' },
  { name: 'ping6', action: 'accept', protocol: 'icmpv6' },
];
const policy = (ports: number[]) =>
  JSON.stringify({ version: 1, rules: rules(ports), detectors: { synFlood: { perSource: { rate: 20, burst: 40 }, ban: '10m' } } }, null, 2) + '\n';
/** Listeners run on all three; the first policy opens 8080, the second 8080 and 9090; 7070 stays closed. */
const LISTEN = [8080, 9090, 7070];

// Linux capability numbers (linux/capability.h), for comparing /proc/<pid>/status masks with the unit.
const CAPS = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap', 'linux_immutable',
  'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner', 'sys_module', 'sys_rawio', 'sys_chroot',
  'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice', 'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease',
  'audit_write', 'audit_control', 'setfcap', 'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read',
  'perfmon', 'bpf', 'checkpoint_restore',
];
function capMask(list: string): bigint {
  let mask = 0n;
  for (const name of list.split(/\s+/).filter(Boolean)) {
    const n = CAPS.indexOf(name.toLowerCase().replace(/^cap_/, ''));
    if (n < 0) throw new Error(`unknown capability ${name}`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The container seen through the service: systemctl, journal, CLI, and the client's packets. */
function helpers(c: Container) {
  const h = {
    show: async (...props: string[]) => {
      const out = (await c.exec('systemctl', ['show', 'vpsfw', ...props.flatMap((p) => ['-p', p])])).stdout;
      return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])) as Record<string, string>;
    },
    mainPid: async () => Number((await h.show('MainPID')).MainPID),
    events: async () => {
      const out = (await c.exec('journalctl', ['-u', 'vpsfw', '-o', 'cat', '--no-pager'])).stdout;
      return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown> & { event?: string });
    },
    /** Waits for the n-th event (counting from `after` events already seen) that passes `pred`. */
    waitEvent: (what: string, pred: (e: Record<string, unknown>) => boolean, after = 0) =>
      waitFor(what, 20_000, async () => (await h.events()).slice(after).find(pred)),
    vpsfw: (...args: string[]) => c.status('vpsfw', args, { timeoutMs: 20_000 }),
    bans: async () => JSON.parse((await c.exec('vpsfw', ['bans', '--json'])).stdout) as { address: string; by: string }[],
    /** Whether a TCP connection from the client (optionally from `from`) to the container's port completes. */
    reach: async (port: number, from?: string) =>
      (await c.client.status('nc', ['-z', '-w', '2', ...(from ? ['-s', from] : []), c.client.server4, String(port)], { timeoutMs: 10_000 })).code === 0,
    install: (...flags: string[]) => c.status('bash', [`${CHECKOUT}/${INSTALLER}`, ...flags], { timeoutMs: 300_000 }),
    /** Every path whose name mentions vpsfw, with size, mode, owner and mtime: what an install leaves. */
    // Every path mentioning vpsfw, less the checkout, the journal, the state and this harness's own
    // marker of the cached root (/.vpsfw-root.json).
    footprint: async () =>
      (
        await c.exec('sh', [
          '-c',
          `find / -xdev \\( -path ${CHECKOUT} -o -path /var/log/journal -o -path /var/lib/private/vpsfw -o -path /var/lib/vpsfw -o -path /.vpsfw-root.json \\) -prune -o -ipath '*vpsfw*' -printf '%p %s %m %u %T@\\n' | sort`,
        ])
      ).stdout,
    kernel: async () => {
      const v4 = await c.exec('iptables-save', []);
      const v6 = await c.exec('ip6tables-save', []);
      const sets = await c.exec('ipset', ['list', '-n']);
      return `${v4.stdout}\n${v6.stdout}\n${sets.stdout}`;
    },
  };
  return h;
}

t.test('the Ubuntu installer, and the service it installs under systemd', async (t) => {
  const started = Date.now();
  t.ok(existsSync(join(REPO, INSTALLER)), `${INSTALLER} exists`);
  t.ok(existsSync(join(REPO, 'agent/dist/cli/main.js')), 'the agent is built (npm run build)');
  if (!existsSync(join(REPO, INSTALLER)) || !existsSync(join(REPO, 'agent/dist/cli/main.js'))) return;
  const hostFirewall = () => execFileSync('sh', ['-c', 'iptables-save; ip6tables-save; ipset list -n'], { encoding: 'utf8' }).replace(/^#.*$/gm, '').replace(/\[\d+:\d+\]/g, '');
  const hostBefore = hostFirewall();

  const root = await ensureRoot({ onBuild: (ms) => t.comment(`debootstrap: ${(ms / 1000).toFixed(1)} s`) });
  const ws = workspace(root);
  t.teardown(() => ws.destroy());
  await ws.copyIn(['agent', 'bin', 'docs', 'package.json', 'package-lock.json', 'node_modules'].map((p) => join(REPO, p)), CHECKOUT);
  // The operator's policy is there before the install: the installer must keep it.
  await ws.writeFile(POLICY, policy([8080]));
  // The chroot step reaches the package registries as this machine does: through the same
  // certificate authorities (a machine behind a TLS-inspecting proxy adds its own to this bundle).
  await ws.writeFile('/etc/ssl/certs/ca-certificates.crt', readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8'));

  const chrootInstall = await ws.chroot('bash', [`${CHECKOUT}/${INSTALLER}`, '--no-start']);
  t.equal(chrootInstall.code, 0, 'install.sh --no-start in a plain chroot succeeds', { stdout: chrootInstall.stdout.slice(-3000), stderr: chrootInstall.stderr.slice(-3000) });
  t.equal(hostFirewall(), hostBefore, 'the chroot install did not touch the host firewall');
  if (chrootInstall.code !== 0) return;

  const c = await ws.boot();
  t.teardown(() => c.destroy());
  t.comment(`boot: ${c.bootSeconds.toFixed(1)} s`);
  const h = helpers(c);
  t.equal(await c.readFile(POLICY), policy([8080]), 'the existing policy was not overwritten');
  for (const port of LISTEN) await c.exec('systemd-run', [`--unit=listen-${port}`, 'nc', '-lk', String(port)]);

  await t.test('booted, the installer enables and starts the service', async (t) => {
    const r = await h.install();
    t.equal(r.code, 0, 'install.sh with no flags succeeds', { stdout: r.stdout.slice(-3000), stderr: r.stderr.slice(-3000) });
    if (r.code !== 0) t.comment((await c.status('journalctl', ['-u', 'vpsfw', '--no-pager', '-n', '40'])).stdout);
    await h.waitEvent('the start event', (e) => e.event === 'start');
    t.equal((await c.status('systemctl', ['is-active', 'vpsfw'])).stdout.trim(), 'active', 'active');
    t.equal((await c.status('systemctl', ['is-enabled', 'vpsfw'])).stdout.trim(), 'enabled', 'enabled');
    t.equal((await h.show('NRestarts')).NRestarts, '0', 'started once, not in a crash loop (SIGSYS would show here)');
  });

  await t.test('runs as the dynamic user with only its capabilities, hardening in force', async (t) => {
    const p = await h.show(
      'MainPID', 'DynamicUser', 'AmbientCapabilities', 'CapabilityBoundingSet', 'NoNewPrivileges', 'ProtectSystem', 'ProtectHome',
      'PrivateTmp', 'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups',
      'ProtectClock', 'ProtectHostname', 'RestrictNamespaces', 'RestrictRealtime', 'LockPersonality', 'RestrictSUIDSGID',
      'RestrictAddressFamilies', 'SystemCallFilter', 'UMask', 'StateDirectory', 'RuntimeDirectory',
    );
    t.equal(p.DynamicUser, 'yes', 'DynamicUser=yes');
    for (const k of ['NoNewPrivileges', 'PrivateTmp', 'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups', 'ProtectClock', 'ProtectHostname', 'RestrictRealtime', 'LockPersonality', 'RestrictSUIDSGID']) {
      t.equal(p[k], 'yes', `${k}=yes`);
    }
    t.equal(p.ProtectSystem, 'strict', 'ProtectSystem=strict');
    t.match(p.ProtectHome, /^(yes|read-only|tmpfs)$/, 'ProtectHome');
    t.equal(p.RestrictNamespaces, 'yes', 'RestrictNamespaces=yes');
    t.same(p.RestrictAddressFamilies!.split(/\s+/).sort(), ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX'], 'RestrictAddressFamilies');
    t.not(p.SystemCallFilter, '', 'a system call filter');
    t.equal(p.UMask, '0077', 'UMask=0077');
    t.equal(p.StateDirectory, 'vpsfw', 'StateDirectory=vpsfw');
    t.equal(p.RuntimeDirectory, 'vpsfw', 'RuntimeDirectory=vpsfw');
    const bounding = p.CapabilityBoundingSet!.split(/\s+/).filter(Boolean).sort();
    t.ok(bounding.includes('cap_net_admin') && bounding.every((x) => x === 'cap_net_admin' || x === 'cap_net_raw'), `bounding set is net_admin [+ net_raw] (${bounding.join(' ')})`);

    const st = await c.readFile(`/proc/${p.MainPID}/status`);
    const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'm').exec(st)?.[1]?.trim() ?? '';
    const uid = Number(field('Uid').split(/\s+/)[0]);
    t.ok(uid >= 61184 && uid <= 65519, `runs as a dynamic user (uid ${uid})`);
    t.equal(BigInt(`0x${field('CapEff')}`), capMask(p.AmbientCapabilities!), `CapEff ${field('CapEff')} is exactly the declared ${p.AmbientCapabilities}`);
    t.equal(BigInt(`0x${field('CapBnd')}`), capMask(p.CapabilityBoundingSet!), 'CapBnd is the declared bounding set');
    t.equal(field('NoNewPrivs'), '1', 'no new privileges, in the kernel');
    t.equal(field('Seccomp'), '2', 'a seccomp filter, in the kernel');
    const rootMount = (await c.readFile(`/proc/${p.MainPID}/mountinfo`)).split('\n').find((l) => l.split(' ')[4] === '/');
    t.match(rootMount?.split(' ')[5] ?? '', /^ro\b/, 'its / is read-only (ProtectSystem=strict)');

    const sec = await c.status('systemd-analyze', ['security', 'vpsfw', '--no-pager']);
    const score = Number(/Overall exposure level for vpsfw\.service:\s*([\d.]+)/.exec(sec.stdout)?.[1]);
    t.comment(`systemd-analyze security, the unit as installed: ${score}`);
    t.ok(score <= 2.0, `exposure ${score} at or below 2.0`);
  });

  await t.test('kernel rules in place; allowed port reachable, others not', async (t) => {
    const chain = await c.status('iptables', ['-S', 'VPSFW-INPUT']);
    t.equal(chain.code, 0, 'VPSFW-INPUT exists');
    t.match(chain.stdout, /NFQUEUE/, 'it queues to the agent');
    t.match((await c.exec('iptables', ['-S', 'INPUT'])).stdout, /-j VPSFW-INPUT/, 'hooked into INPUT');
    t.match((await c.exec('ip6tables', ['-S', 'INPUT'])).stdout, /-j VPSFW-INPUT/, 'and into ip6tables INPUT');
    t.match((await c.exec('ipset', ['list', '-n'])).stdout, /vpsfw-ban4/, 'the ban set exists');
    t.equal(await h.reach(8080), true, 'allowed port 8080 reachable');
    t.equal(await h.reach(9090), false, 'port 9090 not reachable');
  });

  await t.test('a SYN flood gets its source banned; the CLI works as root', async (t) => {
    t.equal(await h.reach(8080, c.client.alt4), true, 'the flooding address connects before the flood');
    // 2000 SYNs 0.5 ms apart (about a second), bounded by count and by time.
    await c.client.status('hping3', ['-q', '-S', '-p', '8080', '-a', c.client.alt4, '-i', 'u500', '-c', '2000', c.client.server4], { timeoutMs: 20_000 });
    const ban = await waitFor('the flooder\'s ban', 10_000, async () => (await h.bans()).find((b) => b.address === c.client.alt4));
    t.match(ban, { by: 'detector:synFlood' }, 'banned by the SYN-flood detector');
    t.equal(await h.reach(8080, c.client.alt4), false, 'the banned address cannot connect');
    t.equal(await h.reach(8080), true, 'the client\'s other address still can');
    t.match((await c.exec('ipset', ['list', 'vpsfw-ban4'])).stdout, c.client.alt4, 'the ban is in the kernel set');
    const st = await h.vpsfw('status');
    t.equal(st.code, 0, 'vpsfw status');
    t.match(st.stdout, new RegExp(`pid ${await h.mainPid()}\\b`), 'it reports the service\'s main process');
    const json = JSON.parse((await c.exec('vpsfw', ['status', '--json'])).stdout) as { bans: { active: number } };
    t.ok(json.bans.active >= 1, 'status --json counts the ban');
    t.match((await h.vpsfw('bans')).stdout, c.client.alt4, 'vpsfw bans lists it');
  });

  await t.test('JSON events reach the journal', async (t) => {
    const events = await h.events();
    t.ok(events.some((e) => e.event === 'start'), 'start event');
    t.ok(events.some((e) => e.event === 'ban' && e.address === c.client.alt4), 'ban event with the address');
  });

  await t.test('systemctl reload applies a changed policy and keeps bans; a bad one is refused', async (t) => {
    const seen = (await h.events()).length;
    const pid = await h.mainPid();
    await c.writeFile(POLICY, policy([8080, 9090]));
    t.equal((await c.status('systemctl', ['reload', 'vpsfw'])).code, 0, 'systemctl reload');
    await h.waitEvent('the reload event', (e) => e.event === 'reload', seen);
    t.equal(await h.reach(9090), true, 'the new policy is in force: 9090 reachable');
    t.equal(await h.reach(7070), false, '7070 still closed');
    t.equal(await h.reach(8080, c.client.alt4), false, 'the ban survived the reload');
    t.equal(await h.mainPid(), pid, 'same process');

    const seenBad = (await h.events()).length;
    await c.writeFile(POLICY, JSON.stringify({ version: 1, rules: [{ name: 'x', action: 'accept', protocol: 'tcp', ports: [0] }] }));
    await c.status('systemctl', ['reload', 'vpsfw']);
    const rejected = await h.waitEvent('the reload-rejected event', (e) => e.event === 'reload-rejected', seenBad);
    t.ok(rejected, 'the bad policy is refused, in the journal');
    const cli = await h.vpsfw('reload');
    t.not(cli.code, 0, 'vpsfw reload refuses it too');
    t.match(cli.stderr, /rules\.0\.ports\.0/, 'naming the field');
    t.equal((await c.status('systemctl', ['is-active', 'vpsfw'])).stdout.trim(), 'active', 'still active');
    t.equal(await h.mainPid(), pid, 'same process');
    t.equal(await h.reach(9090), true, 'the old policy keeps running');
    await c.writeFile(POLICY, policy([8080, 9090]));
  });

  await t.test('systemctl restart restores bans; unban lifts them', async (t) => {
    const pid = await h.mainPid();
    const seen = (await h.events()).length;
    t.equal((await c.status('systemctl', ['restart', 'vpsfw'])).code, 0, 'systemctl restart');
    const start = await h.waitEvent('the start event', (e) => e.event === 'start', seen);
    t.not(await h.mainPid(), pid, 'a new process');
    t.match(start, { bansRestored: 1 }, 'one ban restored');
    t.equal(await h.reach(8080, c.client.alt4), false, 'still banned after the restart');
    const un = await h.vpsfw('unban', c.client.alt4);
    t.equal(un.code, 0, 'vpsfw unban');
    t.equal(await h.reach(8080, c.client.alt4), true, 'the address connects again');
    t.same((await h.bans()).map((b) => b.address), [], 'no bans left');
    t.ok((await h.events()).some((e) => e.event === 'unban' && e.address === c.client.alt4), 'unban event');
  });

  await t.test('kill -9 of the main process: systemd restarts it, traffic flows meanwhile (fail-open)', async (t) => {
    const before = await h.show('MainPID', 'NRestarts');
    const seen = (await h.events()).length;
    await c.exec('kill', ['-9', before.MainPID!]);
    const during = await h.reach(8080);
    const state = await h.show('ActiveState', 'SubState', 'MainPID');
    t.equal(during, true, `a new connection completes right after the kill (unit then ${state.ActiveState}/${state.SubState})`);
    await h.waitEvent('the start event after the kill', (e) => e.event === 'start', seen);
    // The unit leaves "activating" once ExecStartPost sees the control socket (polled every 0.1 s),
    // a moment after the start event: wait for it to settle, whichever state it settles in.
    const after = await waitFor('the unit to leave activating', 10_000, async () => {
      const s = await h.show('MainPID', 'NRestarts', 'ActiveState');
      return s.ActiveState !== 'activating' && s;
    });
    t.not(after.MainPID, before.MainPID, 'a new main process');
    t.equal(Number(after.NRestarts), Number(before.NRestarts) + 1, 'restarted by systemd');
    t.equal(after.ActiveState, 'active', 'active again');
    t.equal(await h.reach(8080), true, '8080 reachable');
    t.equal(await h.reach(7070), false, '7070 judged closed again');
    t.equal((await c.exec('iptables', ['-S', 'INPUT'])).stdout.split('\n').filter((l) => l.includes('VPSFW-INPUT')).length, 1, 'one jump, not two');
  });

  await t.test('the installer run again changes nothing', async (t) => {
    const footprint = await h.footprint();
    const pid = await h.mainPid();
    const policyText = await c.readFile(POLICY);
    const r = await h.install();
    t.equal(r.code, 0, 'second run succeeds', { stdout: r.stdout.slice(-2000), stderr: r.stderr.slice(-2000) });
    t.equal(await h.footprint(), footprint, 'no file added, removed or rewritten');
    t.equal(await c.readFile(POLICY), policyText, 'the policy untouched');
    t.equal(await h.mainPid(), pid, 'the service was not restarted');
  });

  await t.test('--uninstall --purge leaves no unit, no files, no rules, no sets', async (t) => {
    const unitPath = (await h.show('FragmentPath')).FragmentPath!;
    const r = await h.install('--uninstall', '--purge');
    t.equal(r.code, 0, 'uninstall succeeds', { stdout: r.stdout.slice(-2000), stderr: r.stderr.slice(-2000) });
    t.equal((await c.status('systemctl', ['list-unit-files', 'vpsfw.service', '--no-legend'])).stdout.trim(), '', 'no unit file');
    t.not((await c.status('test', ['-e', unitPath])).code, 0, `${unitPath} removed`);
    t.equal(await h.footprint(), '', 'no path mentioning vpsfw left');
    for (const dir of ['/etc/vpsfw', '/var/lib/vpsfw', '/var/lib/private/vpsfw', '/run/vpsfw']) {
      t.not((await c.status('test', ['-e', dir])).code, 0, `${dir} removed`);
    }
    t.not((await c.status('sh', ['-c', 'command -v vpsfw'])).code, 0, 'no vpsfw command');
    t.notMatch(await h.kernel(), /vpsfw/i, 'no vpsfw chain, jump or set in the kernel');
  });

  t.equal(hostFirewall(), hostBefore, 'the host firewall was never touched');
  t.comment(`whole test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
