// Stream keys: one per direction of a TCP conversation; a key's length is its family's.
import t from 'tap';
import { decode } from '../../../agent/src/packet/decode.js';
import { FLOW_WORDS, flowKey } from '../../../agent/src/packet/flow.js';
import { TCP_ACK, type TcpHeader } from '../../../agent/src/packet/types.js';
import { tcp4, tcp6 } from '../../lib/packets.js';

function key(buf: Buffer): number[] {
  const p = decode(buf);
  if (typeof p === 'string') throw new Error(p);
  return [...flowKey(p, p.l4 as TcpHeader)];
}

t.test('the two directions of a TCP connection are two streams; the same direction is one', async (t) => {
  const out = key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 80, flags: TCP_ACK, seq: 1 }));
  const again = key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 80, flags: TCP_ACK, seq: 99, payload: Buffer.from('x') }));
  const back = key(tcp4({ src: '192.0.2.1', dst: '192.0.2.2', srcPort: 80, dstPort: 40000, flags: TCP_ACK }));
  t.equal(out.length, FLOW_WORDS[4]);
  t.same(out, again);
  t.notSame(out, back);
  t.notSame(out, key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40001, dstPort: 80, flags: TCP_ACK })), 'another source port');
  t.notSame(out, key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 81, flags: TCP_ACK })), 'another destination port');
  t.notSame(out, key(tcp4({ src: '192.0.2.3', dst: '192.0.2.1', srcPort: 40000, dstPort: 80, flags: TCP_ACK })), 'another source');
  t.same(key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 65535, dstPort: 65535 })), [0xffffffff, 0xc0000202, 0xc0000201], 'ports and addresses as unsigned words');
});

t.test('IPv6: every address word counts', async (t) => {
  const a = key(tcp6({ src: '2001:db8::2', dst: '2001:db8::1', srcPort: 1, dstPort: 2 }));
  t.equal(a.length, FLOW_WORDS[6]);
  t.notSame(a, key(tcp6({ src: '2001:db8::3', dst: '2001:db8::1', srcPort: 1, dstPort: 2 })), 'last source word');
  t.notSame(a, key(tcp6({ src: '2001:db9::2', dst: '2001:db8::1', srcPort: 1, dstPort: 2 })), 'first source word');
  t.notSame(a, key(tcp6({ src: '2001:db8::2', dst: '2001:db8::9', srcPort: 1, dstPort: 2 })), 'destination');
  t.notSame(a, key(tcp6({ src: '2001:db8::2', dst: '2001:db8:0:1::1', srcPort: 1, dstPort: 2 })), 'a middle destination word');
});
