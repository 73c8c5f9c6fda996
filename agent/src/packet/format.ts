// One readable line per packet for debug mode, close to tcpdump's wording:
//   4 tcp 192.0.2.2:40000 > 192.0.2.1:22 [S] seq=1 len=60 payload=0
//   6 icmpv6 2001:db8:1::2 > 2001:db8:1::1 echo-request len=104 payload=56
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, type Packet } from './types.js';

/** tcpdump's letters and order, FIN to CWR (ECE and CWR have no constant in types.ts); '.' is ACK. */
const FLAGS: ReadonlyArray<readonly [number, string]> = [
  [TCP_FIN, 'F'],
  [TCP_SYN, 'S'],
  [TCP_RST, 'R'],
  [TCP_PSH, 'P'],
  [TCP_ACK, '.'],
  [TCP_URG, 'U'],
  [0x40, 'E'],
  [0x80, 'W'],
];

const PROTOCOLS: Record<number, string> = { [IPPROTO_ICMP]: 'icmp', [IPPROTO_TCP]: 'tcp', [IPPROTO_UDP]: 'udp', [IPPROTO_ICMPV6]: 'icmpv6' };

const ICMP_TYPES: Record<number, string> = { 0: 'echo-reply', 3: 'unreachable', 5: 'redirect', 8: 'echo-request', 11: 'time-exceeded', 12: 'parameter-problem' };
const ICMPV6_TYPES: Record<number, string> = {
  1: 'unreachable',
  2: 'packet-too-big',
  3: 'time-exceeded',
  4: 'parameter-problem',
  128: 'echo-request',
  129: 'echo-reply',
  133: 'router-solicitation',
  134: 'router-advertisement',
  135: 'neighbor-solicitation',
  136: 'neighbor-advertisement',
  137: 'redirect',
};

export function formatPacket(p: Packet): string {
  const l4 = p.l4;
  const frag = p.laterFragment ? ' frag(later)' : p.moreFragments ? ' frag(first)' : '';
  const tail = `${frag} len=${p.length} payload=${p.payloadLength}`;
  if (l4?.kind === 'tcp') {
    let flags = '';
    for (const [bit, letter] of FLAGS) if (l4.flags & bit) flags += letter;
    const ack = l4.flags & TCP_ACK ? ` ack=${l4.ack}` : '';
    return `${p.family} tcp ${hostPort(p.src, l4.srcPort)} > ${hostPort(p.dst, l4.dstPort)} [${flags}] seq=${l4.seq}${ack}${tail}`;
  }
  if (l4?.kind === 'udp') return `${p.family} udp ${hostPort(p.src, l4.srcPort)} > ${hostPort(p.dst, l4.dstPort)}${tail}`;
  if (l4) {
    const name = (l4.kind === 'icmp' ? ICMP_TYPES : ICMPV6_TYPES)[l4.type];
    const what = name === undefined ? `type=${l4.type} code=${l4.code}` : l4.code === 0 ? name : `${name} code=${l4.code}`;
    return `${p.family} ${l4.kind} ${p.src} > ${p.dst} ${what}${tail}`;
  }
  return `${p.family} ${PROTOCOLS[p.protocol] ?? `proto=${p.protocol}`} ${p.src} > ${p.dst}${tail}`;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

const HEX_BYTES = 32;

/** An undecodable packet: why, its size, and its first bytes in hex. */
export function formatMalformed(buf: Buffer, reason: string): string {
  const more = buf.length > HEX_BYTES ? '…' : '';
  return `malformed (${reason}) ${buf.length} bytes: ${buf.subarray(0, HEX_BYTES).toString('hex')}${more}`;
}
