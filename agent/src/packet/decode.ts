// The decoder: IPv4 (options, fragments), IPv6 (extension headers), TCP, UDP, ICMP, ICMPv6, as a
// view over the queued buffer. It never throws and never copies the payload: every length is
// checked against the buffer before it is trusted, and a packet that lies gets a reason instead.
import { ipv4At, ipv6At } from './address.js';
import {
  DST_OFFSET,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SRC_OFFSET,
  type DecodeResult,
  type IcmpHeader,
  type MalformedReason,
  type Packet,
  type TcpHeader,
  type UdpHeader,
} from './types.js';

/** More than this many IPv6 extension headers is an evasion attempt, not a real packet. */
const MAX_EXTENSION_HEADERS = 8;

/** TCP, UDP and ICMP/ICMPv6 headers (ICMP's rest-of-header word included, as the kernel requires). */
const TCP_MIN = 20;
const UDP_LEN = 8;
const ICMP_LEN = 8;

/** The addresses become text only when something asks (a log line, a ban): judging compares bytes. */
class DecodedPacket implements Packet {
  #src: string | undefined;
  #dst: string | undefined;

  constructor(
    readonly buf: Buffer,
    readonly family: 4 | 6,
    readonly length: number,
    readonly protocol: number,
    readonly ttl: number,
    readonly laterFragment: boolean,
    readonly moreFragments: boolean,
    readonly l4: TcpHeader | UdpHeader | IcmpHeader | null,
    readonly payloadOffset: number,
    readonly payloadLength: number,
  ) {}

  get src(): string {
    return (this.#src ??= addressText(this.buf, SRC_OFFSET[this.family], this.family));
  }

  get dst(): string {
    return (this.#dst ??= addressText(this.buf, DST_OFFSET[this.family], this.family));
  }
}

const addressText = (b: Buffer, off: number, family: 4 | 6) => (family === 4 ? ipv4At(b, off) : ipv6At(b, off));

/**
 * `headersOnly`: the buffer may stop short of the packet's end (the kernel copied only its first
 * bytes, as NFLOG does for the detectors): lengths are still the packet's own, the payload is
 * what was copied.
 */
export function decode(b: Buffer, headersOnly = false): DecodeResult {
  if (b.length === 0) return 'empty';
  const version = b[0]! >> 4;
  if (version === 4) return decode4(b, headersOnly);
  if (version === 6) return decode6(b, headersOnly);
  return 'bad-version';
}

function decode4(b: Buffer, headersOnly: boolean): DecodeResult {
  if (b.length < 20) return 'truncated-ip-header';
  const ihl = (b[0]! & 0x0f) * 4;
  if (ihl < 20 || ihl > b.length) return 'bad-ihl';
  const total = b.readUInt16BE(2);
  if (total < ihl || (total > b.length && !headersOnly)) return 'bad-total-length';
  const frag = b.readUInt16BE(6);
  const offset = (frag & 0x1fff) * 8;
  const more = (frag & 0x2000) !== 0;
  return finish(b, 4, total, b[9]!, b[8]!, ihl, offset, more);
}

function decode6(b: Buffer, headersOnly: boolean): DecodeResult {
  if (b.length < 40) return 'truncated-ip-header';
  const length = 40 + b.readUInt16BE(4);
  if (length > b.length && !headersOnly) return 'bad-total-length';
  const end = Math.min(length, b.length);
  let next = b[6]!;
  let off = 40;
  let fragOffset = 0;
  let more = false;
  for (let n = 0; ; n++) {
    if (next !== 0 && next !== 43 && next !== 44 && next !== 51 && next !== 60) break;
    if (n === MAX_EXTENSION_HEADERS || off + 8 > end) return 'truncated-extension-header';
    const len = next === 44 ? 8 : next === 51 ? (b[off + 1]! + 2) * 4 : (b[off + 1]! + 1) * 8;
    if (off + len > end) return 'truncated-extension-header';
    const f = next === 44 ? b.readUInt16BE(off + 2) : 0;
    next = b[off]!;
    off += len;
    if (f !== 0) {
      fragOffset = f & 0xfff8;
      more = (f & 1) !== 0;
      // Past a later fragment's header is data, not more headers.
      if (fragOffset > 0) break;
    }
  }
  return finish(b, 6, length, next, b[7]!, off, fragOffset, more);
}

/** `off` is where the transport header starts; `fragOffset` is in bytes; `length` is the packet's (IP total length). */
function finish(b: Buffer, family: 4 | 6, length: number, protocol: number, ttl: number, off: number, fragOffset: number, more: boolean): DecodeResult {
  // Only a copy of the headers (decode's headersOnly) ends before the packet does.
  const copied = b.length < length;
  let end = Math.min(length, b.length);
  const later = fragOffset > 0;
  let l4: TcpHeader | UdpHeader | IcmpHeader | null = null;
  let payloadOffset = off;
  const room = end - off;
  // A first fragment must hold the whole transport header: splitting it is how filters are evaded
  // (RFC 1858, RFC 7112). A TCP fragment at offset 8 can only be rewriting the flags of such a split.
  const short: MalformedReason = more ? 'tiny-fragment' : 'truncated-l4-header';
  if (fragOffset === 8 && protocol === IPPROTO_TCP) return 'tiny-fragment';
  if (!later) {
    if (protocol === IPPROTO_TCP) {
      if (room < TCP_MIN) return short;
      const headerLength = (b[off + 12]! >> 4) * 4;
      if (headerLength < TCP_MIN) return 'bad-l4-length';
      if (headerLength > room) return more ? 'tiny-fragment' : 'bad-l4-length';
      l4 = {
        kind: 'tcp',
        srcPort: b.readUInt16BE(off),
        dstPort: b.readUInt16BE(off + 2),
        seq: b.readUInt32BE(off + 4),
        ack: b.readUInt32BE(off + 8),
        flags: b[off + 13]!,
        window: b.readUInt16BE(off + 14),
        headerLength,
      };
      payloadOffset = off + headerLength;
    } else if (protocol === IPPROTO_UDP) {
      if (room < UDP_LEN) return short;
      const udpLength = b.readUInt16BE(off + 4);
      // A fragmented datagram's length covers fragments still to come.
      if (udpLength < UDP_LEN || (!more && !copied && udpLength > room)) return 'bad-l4-length';
      l4 = { kind: 'udp', srcPort: b.readUInt16BE(off), dstPort: b.readUInt16BE(off + 2), length: udpLength };
      payloadOffset = off + UDP_LEN;
      if (!more) end = Math.min(end, off + udpLength);
    } else if ((protocol === IPPROTO_ICMP && family === 4) || (protocol === IPPROTO_ICMPV6 && family === 6)) {
      if (room < ICMP_LEN) return short;
      l4 = { kind: family === 4 ? 'icmp' : 'icmpv6', type: b[off]!, code: b[off + 1]! };
      payloadOffset = off + ICMP_LEN;
    }
  }
  return new DecodedPacket(b, family, length, protocol, ttl, later, more, l4, payloadOffset, end - payloadOffset);
}
