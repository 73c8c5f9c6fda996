// Packet objects for engine tests, made directly (no decoder): the buffer is a bare IP header
// holding only the version and the two addresses (which the engine's CIDR matching reads in place),
// followed by the payload. Family follows the source address.
import { isIPv4 } from 'node:net';
import { addressBytes } from '../../agent/src/packet/address.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_SYN, type Packet } from '../../agent/src/packet/types.js';

export const V4 = { client: '192.0.2.2', other: '192.0.2.3', server: '192.0.2.1' } as const;
export const V6 = { client: '2001:db8::2', other: '2001:db8::3', server: '2001:db8::1' } as const;

interface Base {
  src?: string;
  dst?: string;
  /** IP total length; defaults to header + payload. */
  length?: number;
}

export interface TcpOptions extends Base {
  srcPort?: number;
  dstPort?: number;
  flags?: number;
  seq?: number;
  payload?: Buffer | string;
}

export interface UdpOptions extends Base {
  srcPort?: number;
  dstPort?: number;
  payload?: Buffer | string;
}

export interface IcmpOptions extends Base {
  type?: number;
  payload?: Buffer | string;
}

function ipPacket(o: Base, protocol: number, l4: Packet['l4'], payload: Buffer | string | undefined): Packet {
  const src = o.src ?? V4.client;
  const family = isIPv4(src) ? 4 : 6;
  const dst = o.dst ?? (family === 4 ? V4.server : V6.server);
  const hl = family === 4 ? 20 : 40;
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : (payload ?? Buffer.alloc(0));
  const buf = Buffer.alloc(hl + body.length);
  buf[0] = family << 4;
  addressBytes(src, family).copy(buf, family === 4 ? 12 : 8);
  addressBytes(dst, family).copy(buf, family === 4 ? 16 : 24);
  body.copy(buf, hl);
  return {
    buf,
    family,
    length: o.length ?? buf.length,
    src,
    dst,
    protocol,
    ttl: 64,
    laterFragment: false,
    moreFragments: false,
    l4,
    payloadOffset: hl,
    payloadLength: body.length,
  };
}

/** A TCP packet; by default a SYN from the v4 client to port 80. */
export function tcp(o: TcpOptions = {}): Packet {
  const l4 = { kind: 'tcp', srcPort: o.srcPort ?? 40000, dstPort: o.dstPort ?? 80, seq: o.seq ?? 1000, ack: 0, flags: o.flags ?? TCP_SYN, window: 65535, headerLength: 20 } as const;
  return ipPacket(o, IPPROTO_TCP, l4, o.payload);
}

/** A data segment (ACK) carrying `payload` at `seq`. */
export function segment(seq: number, payload: Buffer | string, o: TcpOptions = {}): Packet {
  return tcp({ flags: TCP_ACK, ...o, seq, payload });
}

export function udp(o: UdpOptions = {}): Packet {
  const body = typeof o.payload === 'string' ? Buffer.from(o.payload, 'latin1') : o.payload;
  const l4 = { kind: 'udp', srcPort: o.srcPort ?? 40000, dstPort: o.dstPort ?? 53, length: 8 + (body?.length ?? 0) } as const;
  return ipPacket(o, IPPROTO_UDP, l4, body);
}

/** ICMP for a v4 source, ICMPv6 for a v6 one; an echo request unless `type` says otherwise. */
export function icmp(o: IcmpOptions = {}): Packet {
  const v6 = !isIPv4(o.src ?? V4.client);
  const l4 = { kind: v6 ? 'icmpv6' : 'icmp', type: o.type ?? (v6 ? 128 : 8), code: 0 } as const;
  return ipPacket(o, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, l4, o.payload);
}

/** A later fragment of a TCP datagram: the protocol is known, the ports are not. */
export function laterFragment(o: Base = {}): Packet {
  return { ...ipPacket(o, IPPROTO_TCP, null, undefined), laterFragment: true };
}

/** A clock the test moves by hand. */
export class FakeClock {
  constructor(public t = 1_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
