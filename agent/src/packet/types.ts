// What the decoder hands the engine: a view over the queued packet's bytes (no copies of the
// payload), with the few header fields the engine reads already parsed.

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;

export interface TcpHeader {
  readonly kind: 'tcp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  /** The low 8 flag bits (FIN..CWR). */
  readonly flags: number;
  readonly window: number;
  /** Header length in bytes, options included. */
  readonly headerLength: number;
}

export interface UdpHeader {
  readonly kind: 'udp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly length: number;
}

export interface IcmpHeader {
  /** 'icmp' for IPv4, 'icmpv6' for IPv6. */
  readonly kind: 'icmp' | 'icmpv6';
  readonly type: number;
  readonly code: number;
}

export interface Packet {
  /** The whole IP packet as queued; payloadOffset/payloadLength index into it. */
  readonly buf: Buffer;
  readonly family: 4 | 6;
  /** IP total length as the header states it (checked against the buffer). */
  readonly length: number;
  /** The addresses as text (made when first asked for: the packet path compares bytes). */
  readonly src: string;
  readonly dst: string;
  /** The upper-layer protocol number, after IPv6 extension headers. */
  readonly protocol: number;
  readonly ttl: number;
  /** A fragment other than the first: no transport header to read. */
  readonly laterFragment: boolean;
  /** More fragments follow (IPv4 MF, or IPv6 fragment header M). */
  readonly moreFragments: boolean;
  readonly l4: TcpHeader | UdpHeader | IcmpHeader | null;
  /** Transport payload (after the TCP/UDP/ICMP header) within buf. */
  readonly payloadOffset: number;
  readonly payloadLength: number;
}

export type MalformedReason =
  | 'empty'
  | 'bad-version'
  | 'truncated-ip-header'
  | 'bad-ihl'
  | 'bad-total-length'
  | 'truncated-extension-header'
  | 'truncated-l4-header'
  | 'bad-l4-length'
  | 'tiny-fragment';

/** A packet, or why it could not be decoded. */
export type DecodeResult = Packet | MalformedReason;

/** Where the source and destination addresses sit in a packet of each family. */
export const SRC_OFFSET = { 4: 12, 6: 8 } as const;
export const DST_OFFSET = { 4: 16, 6: 24 } as const;
