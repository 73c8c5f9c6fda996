// Compiled CIDR sets: prefix boundaries in both families, absent = any, families kept apart.
import t from 'tap';
import { CidrSet } from '../../../agent/src/engine/cidr.js';
import { addressBytes } from '../../../agent/src/packet/address.js';
import { parseCidr, type Cidr } from '../../../agent/src/policy/units.js';

const set = (...specs: string[]) => new CidrSet(specs.map((s) => parseCidr(s) as Cidr));
const has = (s: CidrSet, address: string) => {
  const family = address.includes(':') ? 6 : 4;
  return s.matches(addressBytes(address, family), 0, family);
};

t.test('IPv4 prefixes: the first and last address in, the neighbours out', async (t) => {
  const s = set('198.51.100.0/24');
  t.ok(has(s, '198.51.100.0'));
  t.ok(has(s, '198.51.100.255'));
  t.notOk(has(s, '198.51.99.255'));
  t.notOk(has(s, '198.51.101.0'));
  const odd = set('10.0.0.0/9');
  t.ok(has(odd, '10.127.255.255'));
  t.notOk(has(odd, '10.128.0.0'));
});

t.test('IPv4 /32, /0 and high first octets (no sign trouble)', async (t) => {
  t.ok(has(set('203.0.113.7'), '203.0.113.7'));
  t.notOk(has(set('203.0.113.7'), '203.0.113.6'));
  t.ok(has(set('0.0.0.0/0'), '255.255.255.255'));
  t.ok(has(set('240.0.0.0/4'), '255.1.2.3'));
  t.notOk(has(set('240.0.0.0/4'), '239.255.255.255'));
});

t.test('IPv6 prefixes across 32-bit word boundaries', async (t) => {
  const s = set('2001:db8::/32');
  t.ok(has(s, '2001:db8::'));
  t.ok(has(s, '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'));
  t.notOk(has(s, '2001:db9::'));
  const s33 = set('2001:db8:8000::/33');
  t.ok(has(s33, '2001:db8:ffff::1'));
  t.notOk(has(s33, '2001:db8:7fff::1'));
  const s127 = set('2001:db8::2/127');
  t.ok(has(s127, '2001:db8::3'));
  t.notOk(has(s127, '2001:db8::4'));
  t.ok(has(set('::/0'), 'fe80::1'));
  t.ok(has(set('2001:db8::1'), '2001:db8::1'));
  t.notOk(has(set('2001:db8::1'), '2001:db8::1:0'));
});

t.test('families are separate; absent means any, empty means none', async (t) => {
  const v4only = set('192.0.2.0/24');
  t.ok(has(v4only, '192.0.2.1'));
  t.notOk(has(v4only, '::'), 'a v4-only list never matches IPv6');
  t.notOk(has(v4only, '::ffff:192.0.2.1'), 'nor an IPv4-mapped IPv6 address');
  t.notOk(has(set('::ffff:192.0.2.0/120'), '192.0.2.1'), 'a mapped v6 network is IPv6');
  const mixed = set('192.0.2.0/24', '2001:db8::/32');
  t.ok(has(mixed, '192.0.2.9'));
  t.ok(has(mixed, '2001:db8::9'));
  t.notOk(has(mixed, '2001:db9::9'));
  const any = new CidrSet(undefined);
  t.ok(has(any, '192.0.2.1'));
  t.ok(has(any, '2001:db8::1'));
  const none = new CidrSet([]);
  t.notOk(has(none, '192.0.2.1'));
  t.notOk(has(none, '2001:db8::1'));
});
