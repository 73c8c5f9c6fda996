// `vpsfw check`: exit 0 for a good policy; exit 1 with every problem as "path: message (got value)".
import t from 'tap';
import { join } from 'node:path';
import check from '../../../agent/src/cli/check.js';
import { writeBadPolicies } from '../../lib/bad-policies.js';
import { captureIo } from '../../lib/io.js';

t.test('a valid file', async (t) => {
  const dir = t.testdir({ 'p.json': JSON.stringify({ version: 1 }) });
  const io = captureIo();
  t.equal(await check(['--policy', join(dir, 'p.json')], io), 0);
  t.match(io.stdout, /^ok: .*p\.json \(policy [0-9a-f]{16}\)/);
});

t.test('an invalid file: every problem, one per line, with path and value', async (t) => {
  const dir = t.testdir({
    'p.json': JSON.stringify({ version: 1, rules: [{ name: 'r', action: 'accept', protocol: 'tcp', ports: [70000], source: ['10.0.0.300/8'] }], bans: { duration: '5x' }, nope: 1 }),
  });
  const io = captureIo();
  t.equal(await check(['--policy', join(dir, 'p.json')], io), 1);
  const lines = io.stderr.trim().split('\n');
  t.match(lines[0], /4 problems/);
  t.ok(lines.includes('rules.0.ports.0: expected a port 1-65535 or a range "from-to" (got 70000)'));
  t.ok(lines.includes('rules.0.source.0: expected an IPv4 or IPv6 address or CIDR (got "10.0.0.300/8")'));
  t.ok(lines.includes('bans.duration: expected a duration such as "90s", "10m", "1h", "7d" (got "5x")'));
  t.ok(lines.includes('(root): unknown key "nope"'));
});

t.test('nested 10,000 and 100,000 deep, a 20 MB value: one short line naming the field', async (t) => {
  for (const bad of writeBadPolicies(t.testdir({}))) {
    const io = captureIo();
    t.equal(await check(['--policy', bad.file], io), 1, bad.name);
    const lines = io.stderr.trim().split('\n');
    t.match(lines, [/1 problem$/, bad.line], bad.name);
    t.equal(lines.length, 2, bad.name);
  }
});

t.test('more problems than are listed: the total, and how many are left out', async (t) => {
  const dir = t.testdir({ 'p.json': JSON.stringify({ version: 1, denyNetworks: Array.from({ length: 300 }, (_, i) => `x${i}`) }) });
  const io = captureIo();
  t.equal(await check(['--policy', join(dir, 'p.json')], io), 1);
  const lines = io.stderr.trim().split('\n');
  t.match(lines[0], /: 300 problems$/);
  t.equal(lines.at(-1), '… and 250 more');
  t.equal(lines.length, 52);
});

t.test('no file anywhere: the built-in default is checked', async (t) => {
  const dir = t.testdir({});
  const cwd = process.cwd();
  process.chdir(dir);
  t.teardown(() => process.chdir(cwd));
  const io = captureIo();
  t.equal(await check([], io), 0);
  t.match(io.stdout, /built-in default/);
});

t.test('--help and unknown options', async (t) => {
  const io = captureIo();
  t.equal(await check(['--help'], io), 0);
  t.match(io.stdout, /usage: vpsfw check/);
  await t.rejects(check(['--bogus'], captureIo()), { code: 'VPSFW_ERR_USAGE', message: /bogus/ });
});
