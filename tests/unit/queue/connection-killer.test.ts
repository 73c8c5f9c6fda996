// Killing a connection: the kernel aborts this host's socket by its four-tuple, this host's end
// first whichever way the offending segment went; where it cannot, the agent's own two resets.
import t from 'tap';
import { connectionKiller } from '../../../agent/src/queue/connection-killer.js';
import type { RawSender } from '../../../agent/src/queue/raw-sender.js';
import { decode } from '../../../agent/src/packet/decode.js';
import type { Packet } from '../../../agent/src/packet/types.js';
import { tcp4, tcp6 } from '../../lib/packets.js';

const packet = (b: Buffer) => decode(b) as Packet;
const ip = (b: Buffer) => [...b].join('.');

function fixture(destroy: (family: 4 | 6, local: Buffer, lp: number, remote: Buffer, rp: number) => void) {
  const sent: Buffer[] = [];
  const sender: RawSender = { send: (p) => void sent.push(p), close: () => undefined };
  const calls: string[] = [];
  const killer = connectionKiller(() => sender, () => ({
    destroySocket: (f, l, lp, r, rp) => {
      calls.push(`${f} ${f === 4 ? ip(l) : l.toString('hex')}:${lp} ${f === 4 ? ip(r) : r.toString('hex')}:${rp}`);
      destroy(f, l, lp, r, rp);
    },
  }));
  return { killer, sent, calls };
}

const IN = packet(tcp4({ src: '198.51.100.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 80, seq: 1, ack: 2, flags: 0x18, payload: Buffer.from('x') }));
const OUT = packet(tcp4({ src: '192.0.2.1', dst: '198.51.100.2', srcPort: 2222, dstPort: 40000, seq: 5, ack: 6, flags: 0x18, payload: Buffer.from('SECRET') }));

t.test("the kernel kills the socket: this host's end first, whichever way the segment went", async (t) => {
  const f = fixture(() => undefined);
  f.killer.kill(IN, 'inbound');
  f.killer.kill(OUT, 'outbound');
  t.same(f.calls, ['4 192.0.2.1:80 198.51.100.2:40000', '4 192.0.2.1:2222 198.51.100.2:40000']);
  t.same(f.sent, [], 'no packet of our own');
  const v6 = fixture(() => undefined);
  v6.killer.kill(packet(tcp6({ src: '2001:db8::2', dst: '2001:db8::1', srcPort: 40000, dstPort: 80, seq: 1, ack: 2, flags: 0x18 })), 'inbound');
  t.match(v6.calls, [/^6 20010db8000000000000000000000001:80 20010db8000000000000000000000002:40000$/]);
});

t.test('where the kernel cannot, the two resets go out through the raw sender; both failing is an error', async (t) => {
  const enoent = Object.assign(new Error('SOCK_DESTROY: No such file or directory'), { errno: 2 });
  const f = fixture(() => {
    throw enoent;
  });
  f.killer.kill(OUT, 'outbound');
  t.equal(f.sent.length, 2, 'a reset to each end');
  t.same(f.sent.map((b) => ip(b.subarray(16, 20))), ['192.0.2.1', '198.51.100.2'], 'to the sender, then to the receiver');
  const dead = connectionKiller(() => ({ send: () => { throw new Error('sendto: Operation not permitted'); }, close: () => undefined }), () => ({ destroySocket: () => { throw enoent; } }));
  t.throws(() => dead.kill(OUT, 'outbound'), { code: 'VPSFW_ERR_QUEUE', message: /no such socket on this host; resets: sendto: Operation not permitted/ });
});
