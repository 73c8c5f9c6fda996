// What the CLI says and how it exits, through its entry point as a user runs it: every message
// plain (no Node errno text, no parseArgs sentences), exit 2 for usage, 3 for "not running", 1 for
// other failures, --version, and --json on every command that prints (against a fake daemon).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../agent/src/cli/main.js';
import { closeControl, listenControl } from '../../../agent/src/control/server.js';
import type { Request } from '../../../agent/src/control/protocol.js';
import { VpsfwError } from '../../../agent/src/errors.js';
import { captureIo } from '../../lib/io.js';

type T = Parameters<Parameters<typeof t.test>[1]>[0];

/** Runs `vpsfw ARGS` and returns what it printed and its exit code. */
async function vpsfw(...argv: string[]) {
  const io = captureIo();
  const saved = process.exitCode;
  process.exitCode = undefined;
  await main(argv, io);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = saved;
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const HOUR = 3_600_000;

/** A control socket answering like the daemon; returns its path and the requests it saw. */
async function fakeDaemon(t: T, handle: (r: Request) => unknown) {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'c.sock');
  const seen: Request[] = [];
  const server = await listenControl(path, async (r) => (seen.push(r), handle(r)));
  t.teardown(() => closeControl(server, path));
  return { path, seen };
}

t.test('--version and version, plain and JSON', async (t) => {
  for (const args of [['--version'], ['-V'], ['version']]) {
    const r = await vpsfw(...args);
    t.equal(r.code, 0, args.join(' '));
    t.match(r.stdout, /^vpsfw \d+\.\d+\.\d+ \(Node\.js \d+\.\d+\.\d+\)\n$/, args.join(' '));
  }
  const j = await vpsfw('version', '--json');
  t.same(JSON.parse(j.stdout), { version: (await import('../../../package.json', { with: { type: 'json' } })).default.version, node: process.versions.node });
});

t.test('usage errors: plain words, the usage below, exit 2', async (t) => {
  const cases: Array<[string[], string]> = [
    [['check', '--bogus'], 'vpsfw check: unknown option --bogus\n'],
    [['check', '-x'], 'vpsfw check: unknown option -x\n'],
    [['check', '--policy'], 'vpsfw check: --policy needs a value\n'],
    [['check', '--policy', '--json'], 'vpsfw check: --policy needs a value\n'],
    [['bans', '--json=yes'], 'vpsfw bans: --json takes no value\n'],
    [['reload', 'now'], 'vpsfw reload: unexpected argument "now"\n'],
    [['ban'], 'vpsfw ban: no address given: name one IPv4 or IPv6 address\n'],
    [['ban', '192.0.2.1', '192.0.2.2'], 'vpsfw ban: one address at a time (got "192.0.2.1 192.0.2.2")\n'],
    [['unban', 'example.com'], 'vpsfw unban: not an IPv4 or IPv6 address (got "example.com")\n'],
    [['ban', '192.0.2.1', '--for', '10'], 'vpsfw ban: --for: expected a duration such as "30m", "1h", "7d" (got "10")\n'],
  ];
  for (const [argv, first] of cases) {
    const r = await vpsfw(...argv);
    t.equal(r.code, 2, `${argv.join(' ')}: exit 2`);
    t.equal(r.stderr.slice(0, first.length), first, `${argv.join(' ')}: ${first.trim()}`);
    t.notMatch(r.stderr, /To specify a positional|argument missing|got ""/, 'none of parseArgs\' own sentences');
  }
  t.match((await vpsfw('check', '--bogus')).stderr, /\n\nusage: vpsfw check/, 'the command\'s usage follows');
  const unknown = await vpsfw('frobnicate');
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /^vpsfw: unknown command "frobnicate"\n\nusage: vpsfw <command>/);
  t.match((await vpsfw('--frob')).stderr, /^vpsfw: unknown option --frob\n/);
  t.equal((await vpsfw()).code, 2, 'no command: usage, exit 2');
  const help = await vpsfw('--help');
  t.equal(help.code, 0);
  t.match(help.stdout, /exit codes: 0 done, 1 failed, 2 bad usage, 3 vpsfw is not running/);
});

t.test('policy files: missing, unreadable, broken JSON, each said plainly, exit 1', async (t) => {
  const dir = t.testdir({ 'broken.json': '{\n  "version": 1,\n  "rules": [}\n', 'sub': {} });
  const missing = await vpsfw('check', '--policy', join(dir, 'nope.json'));
  t.equal(missing.code, 1);
  t.equal(missing.stderr, `vpsfw check: policy file ${join(dir, 'nope.json')} does not exist\n`);
  const isDir = await vpsfw('check', '--policy', join(dir, 'sub'));
  t.equal(isDir.code, 1);
  t.equal(isDir.stderr, `vpsfw check: cannot read policy file ${join(dir, 'sub')}: it is a directory\n`);
  const broken = await vpsfw('check', '--policy', join(dir, 'broken.json'));
  t.equal(broken.code, 1);
  t.match(broken.stderr, '(root): not valid JSON at line 3, column 13: expected a value');
  t.notMatch(missing.stderr + isDir.stderr, /ENOENT|EISDIR|open '/, 'no errno text');
});

t.test('check --json: the outcome as a document, valid or not', async (t) => {
  const dir = t.testdir({ 'ok.json': '{"version":1}', 'bad.json': '{"version":1,"rules":[{"name":"x","action":"accept","protocol":"tcp","ports":[0]}]}' });
  const ok = await vpsfw('check', '--json', '--policy', join(dir, 'ok.json'));
  t.equal(ok.code, 0);
  t.match(JSON.parse(ok.stdout), { ok: true, source: join(dir, 'ok.json'), hash: /^[0-9a-f]{16}$/ });
  const bad = await vpsfw('check', '--json', '--policy', join(dir, 'bad.json'));
  t.equal(bad.code, 1);
  t.match(JSON.parse(bad.stdout), { ok: false, source: join(dir, 'bad.json'), issues: [{ path: 'rules.0.ports.0', value: 0 }] });
  t.equal(bad.stderr, '', 'nothing on stderr: the document says it');
});

t.test('not running: exit 3 for every client command, with what to do', async (t) => {
  for (const argv of [['status'], ['bans'], ['reload'], ['ban', '192.0.2.1'], ['unban', '192.0.2.1']]) {
    const r = await vpsfw(...argv, '--control', '/nonexistent/control.sock');
    t.equal(r.code, 3, `${argv[0]}: exit 3`);
    t.equal(r.stderr, `vpsfw ${argv[0]}: vpsfw is not running (no control socket at /nonexistent/control.sock); start it with \`systemctl start vpsfw\` or \`vpsfw run\`\n`);
  }
});

t.test('bans: a headed table with the time left as "1h 12m"; --json as it came', async (t) => {
  const now = Date.now();
  const list = [
    { address: '192.0.2.7', family: 4, since: now - 60_000, until: now + 72 * 60_000 + 30_000, reason: 'SYN flood', by: 'detector:synFlood', offense: 1 },
    { address: '2001:db8::bad', family: 6, since: now, until: now + 2 * 86_400_000 + 3 * HOUR + 1000, reason: 'manual', by: 'control', offense: 3 },
  ];
  const d = await fakeDaemon(t, () => list);
  const r = await vpsfw('bans', '--control', d.path);
  t.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  t.match(lines[0], /^address\s+left\s+ban #\s+by\s+reason$/, 'every column headed');
  t.match(lines[2], /^192\.0\.2\.7\s+1h 12m\s+1\s+detector:synFlood\s+SYN flood$/);
  t.match(lines[3], /^2001:db8::bad\s+2d 3h\s+3\s+control\s+manual$/);
  t.equal(lines[2]!.indexOf('1h'), lines[0]!.indexOf('left'), 'columns aligned');
  t.same(JSON.parse((await vpsfw('bans', '--json', '--control', d.path)).stdout), list);
  const none = await fakeDaemon(t, () => []);
  t.equal((await vpsfw('bans', '--control', none.path)).stdout, 'no bans\n');
});

t.test('ban, unban, reload: plain and --json', async (t) => {
  const until = Date.now() + HOUR + 30_000;
  const d = await fakeDaemon(t, (r) => {
    if (r.cmd === 'ban') return { address: r.address, until, by: 'control', offense: 1 };
    if (r.cmd === 'unban') return { address: r.address, wasBanned: true };
    if (r.cmd === 'reload') return { source: '/etc/vpsfw/policy.json', policyHash: '0123456789abcdef' };
    throw new VpsfwError('VPSFW_ERR_USAGE', 'unexpected');
  });
  const ban = await vpsfw('ban', '192.0.2.9', '--for', '1h', '--reason', 'abuse', '--control', d.path);
  t.equal(ban.code, 0);
  t.match(ban.stdout, /^banned 192\.0\.2\.9 for 1h \(until \d{4}-\d\d-\d\dT/);
  t.match(d.seen[0], { cmd: 'ban', address: '192.0.2.9', durationMs: HOUR, reason: 'abuse' });
  t.match(JSON.parse((await vpsfw('ban', '192.0.2.9', '--json', '--control', d.path)).stdout), { address: '192.0.2.9', until });
  t.equal((await vpsfw('unban', '192.0.2.9', '--control', d.path)).stdout, 'unbanned 192.0.2.9\n');
  t.same(JSON.parse((await vpsfw('unban', '192.0.2.9', '--json', '--control', d.path)).stdout), { address: '192.0.2.9', wasBanned: true });
  t.equal((await vpsfw('reload', '--control', d.path)).stdout, 'reloaded /etc/vpsfw/policy.json (policy 0123456789abcdef)\n');
  t.same(JSON.parse((await vpsfw('reload', '--json', '--control', d.path)).stdout), { source: '/etc/vpsfw/policy.json', policyHash: '0123456789abcdef' });
});

t.test('a refusal from the daemon: its message, exit 1', async (t) => {
  const d = await fakeDaemon(t, () => {
    throw new VpsfwError('VPSFW_ERR_BAN_REFUSED', '127.0.0.1 is on the allowlist (bans.allowlist): not banned');
  });
  const r = await vpsfw('ban', '127.0.0.1', '--control', d.path);
  t.equal(r.code, 1);
  t.equal(r.stderr, 'vpsfw ban: 127.0.0.1 is on the allowlist (bans.allowlist): not banned\n');
});
