// The Ubuntu installer into a fresh root tree: the unit verifies and scores ≤ 2.0 exposure with
// systemd-analyze, carries every setting of the shared hardening file, a re-run changes nothing,
// a dry run writes nothing, and uninstall leaves nothing (the policy only without --purge).
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const REPO = new URL('../../', import.meta.url).pathname;
const INSTALL = join(REPO, 'agent/packaging/ubuntu/install.sh');
const HARDENING = JSON.parse(readFileSync(join(REPO, 'agent/packaging/hardening.json'), 'utf8')) as Record<string, unknown>;

function install(root: string, ...args: string[]) {
  const r = spawnSync('bash', [INSTALL, '--root', root, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** Every file under root with its mode and content hash: what "changes nothing" is measured by. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(`${relative(root, p)} ${statSync(p).mode.toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
      else out.push(`${relative(root, p)} link`);
    }
  };
  walk(root);
  return out.sort();
}

/** A root that has what the unit's ExecStart names, as a real system would. */
function freshRoot(t: { teardown(f: () => void): void }): string {
  const root = mkdtempSync(join(tmpdir(), 'vpsfw-root-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(process.execPath, join(root, 'usr/bin/node'));
  copyFileSync('/bin/kill', join(root, 'bin/kill'));
  copyFileSync('/bin/sh', join(root, 'bin/sh'));
  return root;
}

t.test('install, verify, score, re-run, uninstall', async (t) => {
  const root = freshRoot(t);
  const before = tree(root);
  const first = install(root);
  t.equal(first.code, 0, first.out);
  const unitPath = join(root, 'etc/systemd/system/vpsfw.service');
  const unit = readFileSync(unitPath, 'utf8');
  t.match(unit, /ExecStart=\S*node --max-semi-space-size=1 \/opt\/vpsfw\/bin\/vpsfw\.js run --policy \/etc\/vpsfw\/policy\.json/, 'with the flags of node-options.json');
  t.match(unit, /^Environment=MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=131072 UV_THREADPOOL_SIZE=1$/m, 'and its environment');
  for (const [key, value] of Object.entries(HARDENING)) {
    if (key.startsWith('_')) continue;
    t.match(unit, new RegExp(`^${key}=`, 'm'), `unit sets ${key}=${JSON.stringify(value)}`);
  }
  t.match(unit, /^SystemCallFilter=@pkey$/m, 'Node 20 needs @pkey (V8 calls pkey_alloc)');
  t.match(unit, /^MemoryDenyWriteExecute=no$/m, 'V8\'s JIT needs W+X memory (docs/ubuntu.md)');
  t.match(unit, /^Type=exec$/m);
  t.match(unit, /^ExecStartPost=\/bin\/sh -c .*-S \/run\/vpsfw\/control\.sock/m, 'started means the control socket is up');
  t.match(unit, /^Before=.*\bssh\.socket\b.*\bsshd\.service\b/m, 'rules before sshd listens');

  const verify = spawnSync('systemd-analyze', ['verify', `--root=${root}`, '/etc/systemd/system/vpsfw.service'], { encoding: 'utf8' });
  t.equal(verify.status, 0, 'systemd-analyze verify passes');
  t.notMatch(verify.stderr, /vpsfw\.service/, `no complaint about the unit: ${verify.stderr}`);
  const security = execFileSync('systemd-analyze', ['security', '--offline=true', `--root=${root}`, 'vpsfw.service'], { encoding: 'utf8' });
  const score = Number(/Overall exposure level for vpsfw\.service: ([\d.]+)/.exec(security)?.[1]);
  t.comment(`systemd-analyze security --offline: exposure ${score}`);
  t.ok(score <= 2.0, `exposure ${score} ≤ 2.0`);

  t.same(JSON.parse(execFileSync(join(root, 'usr/bin/node'), [join(root, 'opt/vpsfw/bin/vpsfw.js'), 'render', '--format', 'policy'], { encoding: 'utf8', cwd: root })), JSON.parse(readFileSync(join(root, 'etc/vpsfw/policy.json'), 'utf8')), 'the default policy is installed');
  t.equal(spawnSync(join(root, 'usr/bin/node'), [join(root, 'opt/vpsfw/bin/vpsfw.js'), 'check', '--policy', join(root, 'etc/vpsfw/policy.json')]).status, 0, 'and it checks');

  const installed = tree(root);
  const second = install(root);
  t.equal(second.code, 0);
  t.notMatch(second.out, /wrote|installing/, 'the re-run wrote nothing');
  t.same(tree(root), installed, 'the re-run changed nothing');

  const custom = '{"version":1,"rules":[{"name":"web","action":"accept","protocol":"tcp","ports":[80]}]}\n';
  execFileSync('bash', ['-c', `printf '%s' '${custom}' > ${join(root, 'etc/vpsfw/policy.json')}`]);
  t.equal(install(root).code, 0);
  t.equal(readFileSync(join(root, 'etc/vpsfw/policy.json'), 'utf8'), custom, 'an existing policy is never overwritten');

  t.equal(install(root, '--uninstall').code, 0);
  t.same(tree(root), [...before, `etc/vpsfw/policy.json ${statSync(join(root, 'etc/vpsfw/policy.json')).mode.toString(8)} ${createHash('sha256').update(custom).digest('hex')}`].sort(), 'only the policy is left');
  t.equal(install(root, '--uninstall', '--purge').code, 0);
  t.same(tree(root), before, 'nothing is left after --purge');
});

t.test('a dry run writes nothing', async (t) => {
  const root = freshRoot(t);
  const before = tree(root);
  const r = install(root, '--dry-run');
  t.equal(r.code, 0, r.out);
  t.match(r.out, /would write .*vpsfw\.service|\+ copy agent/);
  t.same(tree(root), before);
});

t.test('bad options are refused', async (t) => {
  const r = spawnSync('bash', [INSTALL, '--bogus'], { encoding: 'utf8' });
  t.equal(r.status, 2);
  t.match(r.stderr, /unknown option --bogus/);
  t.equal(spawnSync('bash', [INSTALL, '--purge'], { encoding: 'utf8' }).status, 2, '--purge alone');
});

t.test('with OpenSSH installed: its journal is followed, and the unit may read the journal, nothing more', async (t) => {
  const root = freshRoot(t);
  mkdirSync(join(root, 'lib/systemd/system'), { recursive: true });
  writeFileSync(join(root, 'lib/systemd/system/ssh.service'), '[Service]\nExecStart=/usr/sbin/sshd -D\n');
  const r = install(root, '--no-start');
  t.equal(r.code, 0, r.out);
  const policy = JSON.parse(readFileSync(join(root, 'etc/vpsfw/policy.json'), 'utf8')) as { logSources?: unknown[] };
  t.same(policy.logSources, [{ name: 'sshd', kind: 'sshd', journal: 'ssh.service', maxRetry: 5, findTime: '10m', ban: '1h' }]);
  const unit = readFileSync(join(root, 'etc/systemd/system/vpsfw.service'), 'utf8');
  t.match(unit, /^SupplementaryGroups=systemd-journal$/m);
  t.notMatch(unit, /^ProcSubset=/m, 'no ProcSubset: the agent reads its queue counters and journalctl the boot id');
  t.notMatch(unit, /^ReadOnlyPaths=/m);
  const security = execFileSync('systemd-analyze', ['security', '--offline=true', `--root=${root}`, 'vpsfw.service'], { encoding: 'utf8' });
  const score = Number(/Overall exposure level for vpsfw\.service: ([\d.]+)/.exec(security)?.[1]);
  t.ok(score <= 2.0, `exposure ${score} ≤ 2.0`);
  const file = spawnSync(process.execPath, [join(REPO, 'agent/packaging/unit.mjs'), '--node', '/usr/bin/node', '--prefix', '/opt/vpsfw', '--policy', '/etc/vpsfw/policy.json', '--log-access', join(REPO, 'tests/packaging/fixtures/eve-policy.json')], { encoding: 'utf8' });
  t.match(file.stdout, /^SupplementaryGroups=adm$/m, 'a file under /var/log: its group');
  t.match(file.stdout, /^ReadOnlyPaths=\/var\/log\/suricata$/m, 'and its directory, read-only');
});
