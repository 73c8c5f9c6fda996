// The two TCP resets that kill a connection at both ends, built from one of its segments: one to
// the segment's sender (as its peer would answer, RFC 9293 3.5.2), one to its receiver as if
// from the sender. Sequence numbers come from the segment: when it is the next in order, each
// reset arrives at exactly the sequence number its end expects, the only one RFC 5961 accepts
// without a challenge.
// Pure: whole IP packets with correct checksums; the caller sends them (queue/raw-sender.ts).
import { DST_OFFSET, IPPROTO_TCP, SRC_OFFSET, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Packet } from './types.js';

export interface Resets {
  /** From the receiver to the sender: seq = the segment's ack, RST|ACK acknowledging the segment. */
  toSender: Buffer;
  /** From the sender to the receiver: seq = the segment's seq, RST. */
  toReceiver: Buffer;
}

const TTL = 64;
const TCP_HEADER = 20;

/** null unless the packet is a TCP segment whose header was decoded. */
export function resetsFor(p: Packet): Resets | null {
  const tcp = p.l4;
  if (tcp?.kind !== 'tcp') return null;
  const src = p.buf.subarray(SRC_OFFSET[p.family], SRC_OFFSET[p.family] + addressLength(p.family));
  const dst = p.buf.subarray(DST_OFFSET[p.family], DST_OFFSET[p.family] + addressLength(p.family));
  // SYN and FIN take a sequence number each, as a byte of data does.
  const length = p.payloadLength + (tcp.flags & TCP_SYN ? 1 : 0) + (tcp.flags & TCP_FIN ? 1 : 0);
  // A segment without ACK (a SYN) acknowledges nothing: its answer starts at sequence 0.
  const answerSeq = tcp.flags & TCP_ACK ? tcp.ack : 0;
  return {
    toSender: build(p.family, dst, src, { srcPort: tcp.dstPort, dstPort: tcp.srcPort, seq: answerSeq, ack: (tcp.seq + length) >>> 0, flags: TCP_RST | TCP_ACK }),
    toReceiver: build(p.family, src, dst, { srcPort: tcp.srcPort, dstPort: tcp.dstPort, seq: tcp.seq, ack: 0, flags: TCP_RST }),
  };
}

interface Segment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
}

const addressLength = (family: 4 | 6) => (family === 4 ? 4 : 16);

function build(family: 4 | 6, src: Buffer, dst: Buffer, s: Segment): Buffer {
  const ipLength = family === 4 ? 20 : 40;
  const b = Buffer.alloc(ipLength + TCP_HEADER);
  if (family === 4) {
    b[0] = 0x45;
    b.writeUInt16BE(b.length, 2);
    // Don't fragment (40 bytes never need it); id 0, for which the kernel picks one when it sends
    // a raw packet (and sums the header again).
    b.writeUInt16BE(0x4000, 6);
    b[8] = TTL;
    b[9] = IPPROTO_TCP;
    src.copy(b, 12);
    dst.copy(b, 16);
    b.writeUInt16BE(checksum(b, 0, 20, 0), 10);
  } else {
    b.writeUInt32BE(0x60000000, 0);
    b.writeUInt16BE(TCP_HEADER, 4);
    b[6] = IPPROTO_TCP;
    b[7] = TTL;
    src.copy(b, 8);
    dst.copy(b, 24);
  }
  const t = ipLength;
  b.writeUInt16BE(s.srcPort, t);
  b.writeUInt16BE(s.dstPort, t + 2);
  b.writeUInt32BE(s.seq >>> 0, t + 4);
  b.writeUInt32BE(s.ack >>> 0, t + 8);
  b[t + 12] = (TCP_HEADER / 4) << 4;
  b[t + 13] = s.flags;
  // Window 0 and no urgent pointer: a reset carries neither.
  // The pseudo-header: both addresses, the protocol and the TCP length, summed ahead of the segment.
  const pseudo = sum(src, 0, src.length, sum(dst, 0, dst.length, IPPROTO_TCP + TCP_HEADER));
  b.writeUInt16BE(checksum(b, t, b.length, pseudo), t + 16);
  return b;
}

/** The 16-bit one's complement sum of b[from..to) (even length) added to `acc`, not yet folded. */
function sum(b: Buffer, from: number, to: number, acc: number): number {
  for (let i = from; i < to; i += 2) acc += b.readUInt16BE(i);
  return acc;
}

/** The Internet checksum (RFC 1071) of b[from..to), with `acc` summed in ahead. */
function checksum(b: Buffer, from: number, to: number, acc: number): number {
  let s = sum(b, from, to, acc);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
