// Ban targets: an address or a network, normalized (host bits cleared, canonical text, a /32 is an
// address), and containment across word boundaries; the addresses never banned are in
// tests/unit/bans/store.test.ts, through the store that refuses them.
import t from 'tap';
import { contains, isAddress, parseTarget, targetText } from '../../../agent/src/bans/target.js';

const text = (s: string) => targetText(parseTarget(s)!);

t.test('normalized: canonical text, host bits cleared, a full prefix is an address', async (t) => {
  t.equal(text('192.0.2.77/24'), '192.0.2.0/24');
  t.equal(text('2001:DB8:0:0:1::1/64'), '2001:db8::/64');
  t.equal(text('2001:db8:ffff:ffff::/33'), '2001:db8:8000::/33');
  t.equal(text('10.1.2.3/32'), '10.1.2.3');
  t.ok(isAddress(parseTarget('2001:db8::1/128')!));
  t.equal(text('203.0.113.9/0'), '0.0.0.0/0');
  for (const bad of ['', '10.0.0.0/33', '2001:db8::/129', '10.0.0.1/x', 'host']) t.equal(parseTarget(bad), null, bad);
});

t.test('contains: prefixes inside a word and across words, both families, never across families', async (t) => {
  const c = (outer: string, inner: string) => contains(parseTarget(outer)!, parseTarget(inner)!);
  t.ok(c('10.0.0.0/8', '10.255.0.1'));
  t.ok(c('10.0.0.0/8', '10.128.0.0/9'));
  t.notOk(c('10.128.0.0/9', '10.0.0.0/8'), 'a wider network is not inside a narrower one');
  t.notOk(c('10.0.0.0/9', '10.128.0.1'));
  t.ok(c('0.0.0.0/0', '255.255.255.255'));
  t.ok(c('2001:db8::/32', '2001:db8:ffff:ffff::1'));
  t.notOk(c('2001:db8::/48', '2001:db8:1::1'), 'the third group is outside a /48 of 2001:db8:0');
  t.ok(c('2001:db8:1:8000::/49', '2001:db8:1:ffff::1'), 'a prefix ending inside the second word');
  t.notOk(c('::/0', '192.0.2.1'), 'not across families');
});
