// The resets that kill a connection, built from one of its segments: each is compared byte for
// byte with the packet the test builders make from the fields it must have (addresses and ports
// swapped or kept, sequence numbers, flags, TTL or hop limit 64, window 0, DF and id 0 for IPv4),
// decoded back, and its IP and TCP checksums summed to zero. IPv4 (options too) and IPv6
// (extension headers too); SYN, FIN and a sequence number wrap; null for what is not TCP.
import t, { type Test } from 'tap';
import { decode } from '../../../agent/src/packet/decode.js';
import { resetsFor } from '../../../agent/src/packet/reset.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type Packet, type TcpHeader } from '../../../agent/src/packet/types.js';
import { addressBytes, checksum, IPV4_DF, IPV4_MF, ipv4, ipv6, tcp, tcp4, tcp6, udp4 } from '../../lib/packets.js';

function decoded(b: Buffer): Packet {
  const p = decode(b);
  if (typeof p === 'string') throw new Error(`decode failed: ${p}`);
  return p;
}

interface Expect {
  family: 4 | 6;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
}

/** The reset as the builders make it: a bare 20-byte TCP header, window 0, in a plain IP header. */
function expected(e: Expect): Buffer {
  const segment = tcp({ srcPort: e.srcPort, dstPort: e.dstPort, seq: e.seq, ack: e.ack, flags: e.flags, window: 0 });
  return e.family === 4
    ? ipv4({ src: e.src, dst: e.dst, protocol: 6, ttl: 64, id: 0, flags: IPV4_DF, payload: segment })
    : ipv6({ src: e.src, dst: e.dst, nextHeader: 6, hopLimit: 64, payload: segment });
}

/** Every field of one reset, and both checksums summed to zero. */
function check(t: Test, got: Buffer, e: Expect, what: string): void {
  t.same(got, expected(e), `${what}: byte for byte`);
  const p = decoded(got);
  const l4 = p.l4 as TcpHeader;
  t.match(
    { family: p.family, src: p.src, dst: p.dst, ttl: p.ttl, protocol: p.protocol, payload: p.payloadLength, length: got.length },
    { family: e.family, src: e.src, dst: e.dst, ttl: 64, protocol: 6, payload: 0, length: e.family === 4 ? 40 : 60 },
    `${what}: IP fields`,
  );
  t.match(l4, { kind: 'tcp', srcPort: e.srcPort, dstPort: e.dstPort, seq: e.seq, ack: e.ack, flags: e.flags, window: 0, headerLength: 20 }, `${what}: TCP fields`);
  const ipLength = e.family === 4 ? 20 : 40;
  if (e.family === 4) t.equal(checksum([got.subarray(0, 20)]), 0, `${what}: the IPv4 header checksum holds`);
  const pseudo = Buffer.concat([addressBytes(e.src), addressBytes(e.dst), Buffer.from([0, 0, 0, 6]), Buffer.from([0, 0, 0, 20])]);
  t.equal(checksum([pseudo, got.subarray(ipLength)]), 0, `${what}: the TCP checksum holds over the pseudo-header`);
}

t.test('IPv4 data segment: RST|ACK to its sender at its ack, RST to its receiver at its seq', async (t) => {
  const seg = tcp4({ src: '198.51.100.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 2222, seq: 1000, ack: 555000, flags: TCP_PSH | TCP_ACK, payload: Buffer.from('SECRET-LEAK') });
  const r = resetsFor(decoded(seg))!;
  check(t, r.toSender, { family: 4, src: '192.0.2.1', dst: '198.51.100.2', srcPort: 2222, dstPort: 40000, seq: 555000, ack: 1011, flags: TCP_RST | TCP_ACK }, 'to the sender');
  check(t, r.toReceiver, { family: 4, src: '198.51.100.2', dst: '192.0.2.1', srcPort: 40000, dstPort: 2222, seq: 1000, ack: 0, flags: TCP_RST }, 'to the receiver');
});

t.test('IPv6 data segment behind an extension header', async (t) => {
  const seg = ipv6({
    src: '2001:db8:2::2', dst: '2001:db8:2::1', nextHeader: 6, extensions: [{ type: 0 }],
    payload: tcp({ srcPort: 2222, dstPort: 51000, seq: 0x7fffffff, ack: 0x80000000, flags: TCP_ACK, payload: Buffer.alloc(1400, 0x41) }),
  });
  const r = resetsFor(decoded(seg))!;
  check(t, r.toSender, { family: 6, src: '2001:db8:2::1', dst: '2001:db8:2::2', srcPort: 51000, dstPort: 2222, seq: 0x80000000, ack: 0x7fffffff + 1400, flags: TCP_RST | TCP_ACK }, 'to the sender');
  check(t, r.toReceiver, { family: 6, src: '2001:db8:2::2', dst: '2001:db8:2::1', srcPort: 2222, dstPort: 51000, seq: 0x7fffffff, ack: 0, flags: TCP_RST }, 'to the receiver');
});

t.test('IPv4 with options: the addresses and ports still come from the right places', async (t) => {
  const seg = ipv4({ src: '203.0.113.9', dst: '192.0.2.1', protocol: 6, options: Buffer.from([1, 1, 1, 0]), payload: tcp({ srcPort: 1, dstPort: 2, seq: 3, ack: 4, flags: TCP_ACK, payload: Buffer.from('x') }) });
  const r = resetsFor(decoded(seg))!;
  check(t, r.toSender, { family: 4, src: '192.0.2.1', dst: '203.0.113.9', srcPort: 2, dstPort: 1, seq: 4, ack: 4, flags: TCP_RST | TCP_ACK }, 'to the sender');
  check(t, r.toReceiver, { family: 4, src: '203.0.113.9', dst: '192.0.2.1', srcPort: 1, dstPort: 2, seq: 3, ack: 0, flags: TCP_RST }, 'to the receiver');
});

t.test('SYN and FIN count one each; a SYN without ACK is answered from sequence 0', async (t) => {
  const syn = resetsFor(decoded(tcp6({ srcPort: 40001, dstPort: 22, seq: 77, ack: 123456, flags: TCP_SYN })))!;
  check(t, syn.toSender, { family: 6, src: '2001:db8::1', dst: '2001:db8::2', srcPort: 22, dstPort: 40001, seq: 0, ack: 78, flags: TCP_RST | TCP_ACK }, 'SYN, to the sender');
  const fin = resetsFor(decoded(tcp4({ srcPort: 40002, dstPort: 22, seq: 500, ack: 900, flags: TCP_FIN | TCP_ACK, payload: Buffer.from('bye') })))!;
  check(t, fin.toSender, { family: 4, src: '192.0.2.1', dst: '192.0.2.2', srcPort: 22, dstPort: 40002, seq: 900, ack: 504, flags: TCP_RST | TCP_ACK }, 'FIN with data, to the sender');
});

t.test('the acknowledgement wraps at 2^32', async (t) => {
  const r = resetsFor(decoded(tcp4({ srcPort: 5, dstPort: 6, seq: 0xfffffffe, ack: 1, flags: TCP_ACK, payload: Buffer.from('abcd') })))!;
  t.equal(r.toSender.readUInt32BE(28), 2, '0xfffffffe + 4 is 2');
});

t.test('null for what is not a decoded TCP segment', async (t) => {
  t.equal(resetsFor(decoded(udp4({ srcPort: 1, dstPort: 2 }))), null, 'UDP');
  const later = ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 6, fragOffset: 16, flags: IPV4_MF, payload: Buffer.alloc(24) });
  t.equal(resetsFor(decoded(later)), null, 'a later fragment: no TCP header');
});
