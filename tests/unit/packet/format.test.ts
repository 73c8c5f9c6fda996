// Debug lines: one per packet, readable, fragments marked; malformed packets as hex.
import t from 'tap';
import { decode } from '../../../agent/src/packet/decode.js';
import { formatMalformed, formatPacket } from '../../../agent/src/packet/format.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../../agent/src/packet/types.js';
import { icmp, icmpEcho4, icmpEcho6, IPV4_MF, ipv4, ipv6, tcp4, tcp6, udp4, udp6 } from '../../lib/packets.js';

function line(buf: Buffer): string {
  const r = decode(buf);
  if (typeof r === 'string') throw new Error(r);
  return formatPacket(r);
}

t.test('TCP, UDP and ICMP lines for both families', async (t) => {
  t.equal(
    line(tcp4({ src: '192.0.2.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 22, flags: TCP_SYN, seq: 4294967295, options: Buffer.alloc(20, 1) })),
    '4 tcp 192.0.2.2:40000 > 192.0.2.1:22 [S] seq=4294967295 len=60 payload=0',
  );
  t.equal(
    line(tcp6({ src: '2001:db8:1::2', dst: '2001:db8:1::1', srcPort: 40000, dstPort: 80, flags: TCP_PSH | TCP_ACK | TCP_FIN, seq: 1, ack: 2, payload: Buffer.from('GET /') })),
    '6 tcp [2001:db8:1::2]:40000 > [2001:db8:1::1]:80 [FP.] seq=1 ack=2 len=65 payload=5',
  );
  t.equal(line(udp4({ srcPort: 5353, dstPort: 53, payload: Buffer.alloc(12) })), '4 udp 192.0.2.2:5353 > 192.0.2.1:53 len=40 payload=12');
  t.equal(line(udp6({ srcPort: 5353, dstPort: 53 })), '6 udp [2001:db8::2]:5353 > [2001:db8::1]:53 len=48 payload=0');
  t.equal(line(icmpEcho4({ payload: Buffer.alloc(56) })), '4 icmp 192.0.2.2 > 192.0.2.1 echo-request len=84 payload=56');
  t.equal(
    line(icmpEcho6({ src: '2001:db8:1::2', dst: '2001:db8:1::1', payload: Buffer.alloc(56) })),
    '6 icmpv6 2001:db8:1::2 > 2001:db8:1::1 echo-request len=104 payload=56',
  );
  t.equal(
    line(ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 1, payload: icmp({ type: 3, code: 3 }) })),
    '4 icmp 192.0.2.1 > 192.0.2.2 unreachable code=3 len=28 payload=0',
  );
  t.equal(line(ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 1, payload: icmp({ type: 42, code: 1 }) })), '4 icmp 192.0.2.1 > 192.0.2.2 type=42 code=1 len=28 payload=0');
});

t.test('fragments and other protocols are marked', async (t) => {
  const first = tcp4({ srcPort: 1, dstPort: 2, flags: TCP_ACK, payload: Buffer.alloc(40) });
  first.writeUInt16BE(0x2000, 6);
  t.match(line(first), / frag\(first\) len=80 payload=40$/);
  t.equal(
    line(ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 6, flags: IPV4_MF, fragOffset: 64, payload: Buffer.alloc(16) })),
    '4 tcp 192.0.2.2 > 192.0.2.1 frag(later) len=36 payload=16',
  );
  t.equal(
    line(ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: 17, extensions: [{ type: 44, offset: 1024 }], payload: Buffer.alloc(8) })),
    '6 udp 2001:db8::2 > 2001:db8::1 frag(later) len=56 payload=8',
  );
  t.equal(line(ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 47, payload: Buffer.alloc(4) })), '4 proto=47 192.0.2.2 > 192.0.2.1 len=24 payload=4');
});

t.test('malformed: reason, size and the first bytes in hex', async (t) => {
  t.equal(formatMalformed(Buffer.from([0x45, 0x00, 0x01]), 'truncated-ip-header'), 'malformed (truncated-ip-header) 3 bytes: 450001');
  const long = formatMalformed(Buffer.alloc(100, 0xab), 'bad-ihl');
  t.equal(long, `malformed (bad-ihl) 100 bytes: ${'ab'.repeat(32)}…`);
});
