// Packet builders for tests: whole IPv4/IPv6 packets as Buffers, with correct IP, TCP, UDP, ICMP
// and ICMPv6 checksums, so the same bytes can feed the decoder, the engine, pcap files or sockets.
// Transport builders leave the pseudo-header checksums at 0; ipv4()/ipv6() fill them in, because
// only they know the addresses (not for fragments: a part of a datagram has no checksum of its own).
import { isIPv4, isIPv6 } from 'node:net';

export const IPV4_MF = 0x1;
export const IPV4_DF = 0x2;

const TCP = 6;
const UDP = 17;
const ICMPV6 = 58;
/** Where each transport puts its checksum, for the ones ipv4()/ipv6() complete. */
const CHECKSUM_AT: Record<number, number> = { [TCP]: 16, [UDP]: 6, [ICMPV6]: 2 };

export interface Ipv4Options {
  src: string;
  dst: string;
  protocol: number;
  ttl?: number;
  id?: number;
  /** The 3-bit flags field: IPV4_DF, IPV4_MF. */
  flags?: number;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset?: number;
  /** Raw option bytes, zero-padded to a multiple of 4. */
  options?: Buffer;
  payload: Buffer;
}

export function ipv4(o: Ipv4Options): Buffer {
  const options = pad(o.options ?? Buffer.alloc(0), 4);
  const fragOffset = o.fragOffset ?? 0;
  if (fragOffset % 8 !== 0) throw new Error(`ipv4: fragOffset ${fragOffset} is not a multiple of 8`);
  const hl = 20 + options.length;
  if (hl > 60) throw new Error(`ipv4: options of ${options.length} bytes do not fit in a header`);
  const h = Buffer.alloc(hl);
  h[0] = 0x40 | (hl / 4);
  h.writeUInt16BE(hl + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 1, 4);
  h.writeUInt16BE(((o.flags ?? 0) << 13) | (fragOffset / 8), 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.protocol;
  addressBytes(o.src).copy(h, 12);
  addressBytes(o.dst).copy(h, 16);
  options.copy(h, 20);
  h.writeUInt16BE(checksum([h]), 10);
  const payload = Buffer.from(o.payload);
  if (fragOffset === 0 && ((o.flags ?? 0) & IPV4_MF) === 0) {
    const pseudo = Buffer.alloc(12);
    h.copy(pseudo, 0, 12, 20);
    pseudo[9] = o.protocol;
    pseudo.writeUInt16BE(payload.length, 10);
    fillChecksum(o.protocol, pseudo, payload);
  }
  return Buffer.concat([h, payload]);
}

export type Ipv6Extension =
  /** Hop-by-hop (0), routing (43), destination options (60): data zero-padded to 8n - 2 bytes. */
  | { type: 0 | 43 | 60; data?: Buffer }
  /** Fragment header; offset in bytes (a multiple of 8). */
  | { type: 44; offset?: number; more?: boolean; id?: number }
  /** Authentication header: data (SPI, sequence, ICV) zero-padded to 8n - 2 bytes. */
  | { type: 51; data?: Buffer };

export interface Ipv6Options {
  src: string;
  dst: string;
  /** The upper-layer protocol, after any extension headers. */
  nextHeader: number;
  hopLimit?: number;
  extensions?: Ipv6Extension[];
  payload: Buffer;
}

export function ipv6(o: Ipv6Options): Buffer {
  const exts = o.extensions ?? [];
  const parts: Buffer[] = [];
  let fragmented = false;
  exts.forEach((e, i) => {
    const next = exts[i + 1]?.type ?? o.nextHeader;
    let x: Buffer;
    if (e.type === 44) {
      const offset = e.offset ?? 0;
      if (offset % 8 !== 0) throw new Error(`ipv6: fragment offset ${offset} is not a multiple of 8`);
      x = Buffer.alloc(8);
      x.writeUInt16BE(offset | (e.more ? 1 : 0), 2);
      x.writeUInt32BE(e.id ?? 1, 4);
      fragmented = true;
    } else {
      x = pad(Buffer.concat([Buffer.alloc(2), e.data ?? Buffer.alloc(0)]), 8);
      x[1] = e.type === 51 ? x.length / 4 - 2 : x.length / 8 - 1;
    }
    x[0] = next;
    parts.push(x);
  });
  const payload = Buffer.from(o.payload);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(parts.reduce((n, p) => n + p.length, 0) + payload.length, 4);
  h[6] = exts[0]?.type ?? o.nextHeader;
  h[7] = o.hopLimit ?? 64;
  addressBytes(o.src).copy(h, 8);
  addressBytes(o.dst).copy(h, 24);
  if (!fragmented) {
    const pseudo = Buffer.alloc(40);
    h.copy(pseudo, 0, 8, 40);
    pseudo.writeUInt32BE(payload.length, 32);
    pseudo[39] = o.nextHeader;
    fillChecksum(o.nextHeader, pseudo, payload);
  }
  return Buffer.concat([h, ...parts, payload]);
}

export interface TcpOptions {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  /** TCP_SYN | TCP_ACK ... from agent/src/packet/types.ts. */
  flags: number;
  window?: number;
  /** Raw option bytes, zero-padded to a multiple of 4. */
  options?: Buffer;
  payload?: Buffer;
}

export function tcp(o: TcpOptions): Buffer {
  const options = pad(o.options ?? Buffer.alloc(0), 4);
  const h = Buffer.alloc(20 + options.length);
  h.writeUInt16BE(o.srcPort, 0);
  h.writeUInt16BE(o.dstPort, 2);
  h.writeUInt32BE((o.seq ?? 0) >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = (h.length / 4) << 4;
  h[13] = o.flags;
  h.writeUInt16BE(o.window ?? 65535, 14);
  options.copy(h, 20);
  return Buffer.concat([h, o.payload ?? Buffer.alloc(0)]);
}

export interface UdpOptions {
  srcPort: number;
  dstPort: number;
  payload?: Buffer;
}

export function udp(o: UdpOptions): Buffer {
  const payload = o.payload ?? Buffer.alloc(0);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(o.srcPort, 0);
  h.writeUInt16BE(o.dstPort, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export interface IcmpOptions {
  type: number;
  code?: number;
  /** Bytes 4..7 of the header: identifier and sequence for echoes. */
  id?: number;
  seq?: number;
  payload?: Buffer;
}

/** ICMP for IPv4, checksum included (it covers only the message). Same layout as ICMPv6's. */
export function icmp(o: IcmpOptions): Buffer {
  const m = icmpv6(o);
  m.writeUInt16BE(checksum([m]), 2);
  return m;
}

/** ICMPv6; ipv6() fills in the checksum, which covers a pseudo-header. */
export function icmpv6(o: IcmpOptions): Buffer {
  const h = Buffer.alloc(8);
  h[0] = o.type;
  h[1] = o.code ?? 0;
  h.writeUInt16BE(o.id ?? 0, 4);
  h.writeUInt16BE(o.seq ?? 0, 6);
  return Buffer.concat([h, o.payload ?? Buffer.alloc(0)]);
}

// Whole packets, with documentation-range addresses unless told otherwise.
interface Hosts4 { src?: string; dst?: string; ttl?: number }
interface Hosts6 { src?: string; dst?: string; hopLimit?: number }

export const tcp4 = (o: TcpOptions & Hosts4): Buffer => ipv4({ ...hosts4(o), protocol: TCP, payload: tcp(o) });
export const tcp6 = (o: TcpOptions & Hosts6): Buffer => ipv6({ ...hosts6(o), nextHeader: TCP, payload: tcp(o) });
export const udp4 = (o: UdpOptions & Hosts4): Buffer => ipv4({ ...hosts4(o), protocol: UDP, payload: udp(o) });
export const udp6 = (o: UdpOptions & Hosts6): Buffer => ipv6({ ...hosts6(o), nextHeader: UDP, payload: udp(o) });

interface Echo { id?: number; seq?: number; payload?: Buffer; reply?: boolean }
export const icmpEcho4 = (o: Echo & Hosts4 = {}): Buffer =>
  ipv4({ ...hosts4(o), protocol: 1, payload: icmp({ ...o, type: o.reply ? 0 : 8 }) });
export const icmpEcho6 = (o: Echo & Hosts6 = {}): Buffer =>
  ipv6({ ...hosts6(o), nextHeader: ICMPV6, payload: icmpv6({ ...o, type: o.reply ? 129 : 128 }) });

// Picked field by field: TCP's flags and options are not IP's.
const hosts4 = (o: Hosts4) => ({ src: o.src ?? '192.0.2.2', dst: o.dst ?? '192.0.2.1', ttl: o.ttl ?? 64 });
const hosts6 = (o: Hosts6) => ({ src: o.src ?? '2001:db8::2', dst: o.dst ?? '2001:db8::1', hopLimit: o.hopLimit ?? 64 });

/** Address text → 4 or 16 bytes. */
export function addressBytes(a: string): Buffer {
  if (isIPv4(a)) return Buffer.from(a.split('.').map(Number));
  if (!isIPv6(a)) throw new Error(`not an IP address: ${JSON.stringify(a)}`);
  let text = a;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a)?.[1];
  if (v4) {
    const [b0, b1, b2, b3] = v4.split('.').map(Number) as [number, number, number, number];
    text = a.slice(0, -v4.length) + `${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), 2 * i));
  return b;
}

/** The Internet checksum (RFC 1071) over the concatenated chunks. */
export function checksum(chunks: Buffer[]): number {
  const all = Buffer.concat(chunks);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) sum += (all[i]! << 8) | (all[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function fillChecksum(protocol: number, pseudo: Buffer, segment: Buffer): void {
  const at = CHECKSUM_AT[protocol];
  if (at === undefined || segment.length < at + 2) return;
  segment.writeUInt16BE(0, at);
  const sum = checksum([pseudo, segment]);
  // UDP sends a computed 0 as 0xffff: 0 means "no checksum".
  segment.writeUInt16BE(sum === 0 && protocol === UDP ? 0xffff : sum, at);
}

function pad(b: Buffer, to: number): Buffer {
  const rest = b.length % to;
  return rest === 0 ? b : Buffer.concat([b, Buffer.alloc(to - rest)]);
}
