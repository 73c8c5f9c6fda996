// The Ubuntu unit and the HTTP listener: unit.mjs reads the policy (--log-access, the file as the
// installer sees it) and lets in the listener's clients (http.allowFrom) and nothing more; without
// a listener the unit allows no IP traffic at all; the exposure score stays at most 2.0 either way.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const UNIT_MJS = new URL('../../agent/packaging/unit.mjs', import.meta.url).pathname;

function unitFor(t: { teardown(f: () => void): void }, policy: unknown) {
  const root = mkdtempSync(join(tmpdir(), 'vpsfw-unit-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc/vpsfw'), { recursive: true });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  mkdirSync(join(root, 'opt/vpsfw/current/node/bin'), { recursive: true });
  copyFileSync(process.execPath, join(root, 'opt/vpsfw/current/node/bin/node'));
  if (policy !== undefined) writeFileSync(join(root, 'etc/vpsfw/policy.json'), JSON.stringify(policy));
  const unit = execFileSync(process.execPath, [UNIT_MJS, 'agent', '--prefix', '/opt/vpsfw', '--policy', '/etc/vpsfw/policy.json', '--log-access', join(root, 'etc/vpsfw/policy.json')], { encoding: 'utf8' });
  writeFileSync(join(root, 'etc/systemd/system/vpsfw.service'), unit);
  const security = execFileSync('systemd-analyze', ['security', '--offline=true', `--root=${root}`, 'vpsfw.service'], { encoding: 'utf8' });
  return { unit, score: Number(/Overall exposure level for vpsfw\.service: ([\d.]+)/.exec(security)?.[1]) };
}

t.test('no listener: no IP traffic allowed', async (t) => {
  for (const policy of [undefined, { version: 1 }]) {
    const { unit, score } = unitFor(t, policy);
    t.match(unit, /^IPAddressDeny=any$/m);
    t.notMatch(unit, /IPAddressAllow/, policy ? 'a policy without http' : 'no policy file yet');
    t.ok(score <= 2.0, `exposure ${score}`);
  }
});

t.test('a loopback listener: loopback clients only', async (t) => {
  const { unit, score } = unitFor(t, { version: 1, http: { listen: '127.0.0.1:9469' } });
  t.match(unit, /^IPAddressDeny=any$/m);
  t.match(unit, /^IPAddressAllow=127\.0\.0\.0\/8 ::1\/128$/m);
  t.ok(score <= 2.0, `exposure ${score} ≤ 2.0`);
});

t.test('the rules unit serves no one: never an IPAddressAllow', async (t) => {
  const root = t.testdir({ 'policy.json': JSON.stringify({ version: 1, http: { listen: '127.0.0.1:9469' } }) });
  const rules = execFileSync(process.execPath, [UNIT_MJS, 'rules', '--prefix', '/opt/vpsfw', '--policy', '/etc/vpsfw/policy.json', '--log-access', join(root, 'policy.json')], { encoding: 'utf8' });
  t.match(rules, /^IPAddressDeny=any$/m);
  t.notMatch(rules, /IPAddressAllow/);
});

t.test('a listener beyond loopback: the networks the policy names', async (t) => {
  const { unit, score } = unitFor(t, { version: 1, http: { listen: '0.0.0.0:9469', allowFrom: ['10.0.0.0/24', '2001:db8::/64'] } });
  t.match(unit, /^IPAddressAllow=10\.0\.0\.0\/24 2001:db8::\/64$/m);
  t.ok(score <= 2.0, `exposure ${score} ≤ 2.0`);
});
