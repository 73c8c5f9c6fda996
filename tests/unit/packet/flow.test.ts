// Flow keys: one per direction of a conversation, with ports when the transport has them.
import t from 'tap';
import { decode } from '../../../agent/src/packet/decode.js';
import { FLOW_WORDS, flowKeyAt } from '../../../agent/src/packet/flow.js';
import { TCP_ACK } from '../../../agent/src/packet/types.js';
import { icmpEcho6, tcp4, tcp6, udp4 } from '../../lib/packets.js';

function key(buf: Buffer): number[] {
  const p = decode(buf);
  if (typeof p === 'string') throw new Error(p);
  const k = new Uint32Array(FLOW_WORDS + 1).fill(7);
  flowKeyAt(k, 1, p);
  if (k[0] !== 7) throw new Error('wrote before its offset');
  return [...k.subarray(1)];
}

t.test('the two directions of a TCP connection are two flows; the same direction is one', async (t) => {
  const out = key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 80, flags: TCP_ACK, seq: 1 }));
  const again = key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 80, flags: TCP_ACK, seq: 99, payload: Buffer.from('x') }));
  const back = key(tcp4({ src: '192.0.2.1', dst: '192.0.2.2', srcPort: 80, dstPort: 40000, flags: TCP_ACK }));
  t.same(out, again);
  t.notSame(out, back);
  t.notSame(out, key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40001, dstPort: 80, flags: TCP_ACK })), 'another source port');
  t.notSame(out, key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 81, flags: TCP_ACK })), 'another destination port');
  t.notSame(out, key(udp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 80 })), 'another protocol');
});

t.test('every address word counts, and the families never share a key', async (t) => {
  const a = key(tcp6({ src: '2001:db8::2', dst: '2001:db8::1', srcPort: 1, dstPort: 2 }));
  t.notSame(a, key(tcp6({ src: '2001:db8::3', dst: '2001:db8::1', srcPort: 1, dstPort: 2 })), 'last source word');
  t.notSame(a, key(tcp6({ src: '2001:db9::2', dst: '2001:db8::1', srcPort: 1, dstPort: 2 })), 'first source word');
  t.notSame(a, key(tcp6({ src: '2001:db8::2', dst: '2001:db8::9', srcPort: 1, dstPort: 2 })), 'destination');
  t.notSame(key(tcp4({ src: '0.0.0.2', dst: '0.0.0.1', srcPort: 1, dstPort: 2 })), key(tcp6({ src: '::2', dst: '::1', srcPort: 1, dstPort: 2 })), 'IPv4 vs IPv6 with the same words');
});

t.test('protocols without ports still get a key', async (t) => {
  t.same(key(icmpEcho6({ seq: 1 })), key(icmpEcho6({ seq: 2 })));
});
