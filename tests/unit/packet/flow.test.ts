// Flow keys: one per direction of a conversation, with ports when the transport has them.
import t from 'tap';
import { decode } from '../../../agent/src/packet/decode.js';
import { flowKey } from '../../../agent/src/packet/flow.js';
import { TCP_ACK } from '../../../agent/src/packet/types.js';
import { icmpEcho6, tcp4, udp4 } from '../../lib/packets.js';

function key(buf: Buffer): string {
  const r = decode(buf);
  if (!r.ok) throw new Error(r.reason);
  return flowKey(r.packet);
}

t.test('the two directions of a TCP connection are two flows; the same direction is one', async (t) => {
  const out = key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 80, flags: TCP_ACK, seq: 1 }));
  const again = key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 80, flags: TCP_ACK, seq: 99, payload: Buffer.from('x') }));
  const back = key(tcp4({ src: '192.0.2.1', dst: '192.0.2.2', srcPort: 80, dstPort: 40000, flags: TCP_ACK }));
  t.equal(out, again);
  t.not(out, back);
  t.not(out, key(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40001, dstPort: 80, flags: TCP_ACK })), 'another source port');
  t.not(out, key(udp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 80 })), 'another protocol');
});

t.test('protocols without ports still get a key', async (t) => {
  t.equal(key(icmpEcho6({ seq: 1 })), key(icmpEcho6({ seq: 2 })));
});
