// Address text ↔ bytes: what a person types must name the same ban as what a packet carries.
import t from 'tap';
import { addressBytes, canonicalAddress, ipv6At } from '../../../agent/src/packet/address.js';

t.test('canonical forms', async (t) => {
  t.equal(canonicalAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  t.equal(canonicalAddress('2001:db8::0001'), '2001:db8::1');
  t.equal(canonicalAddress('192.0.2.7'), '192.0.2.7');
  t.equal(canonicalAddress('::ffff:192.0.2.1'), '::ffff:192.0.2.1');
});

t.test('text → bytes → text round trip', async (t) => {
  for (const a of ['::', '::1', '2001:db8::', 'fe80::1:2', '2001:db8:1:2:3:4:5:6']) t.equal(ipv6At(addressBytes(a, 6), 0), a);
});
