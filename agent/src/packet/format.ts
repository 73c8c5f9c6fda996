// One readable line per packet, for debug mode.
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, type Packet } from './types.js';

const FLAG_LETTERS: Array<[number, string]> = [
  [TCP_SYN, 'S'],
  [TCP_FIN, 'F'],
  [TCP_RST, 'R'],
  [TCP_PSH, 'P'],
  [TCP_ACK, '.'],
  [TCP_URG, 'U'],
];

const ICMP_NAMES: Record<string, string> = { '4:8': 'echo-request', '4:0': 'echo-reply', '4:3': 'unreachable', '6:128': 'echo-request', '6:129': 'echo-reply', '6:1': 'unreachable' };

export function formatPacket(p: Packet): string {
  const frag = p.laterFragment ? ' frag(later)' : p.moreFragments ? ' frag(first)' : '';
  const l4 = p.l4;
  const tail = ` len=${p.length} payload=${p.payloadLength}${frag}`;
  if (l4?.kind === 'tcp') {
    const flags = FLAG_LETTERS.filter(([bit]) => l4.flags & bit).map(([, c]) => c).join('');
    return `${p.family} tcp ${hostPort(p.src, l4.srcPort)} > ${hostPort(p.dst, l4.dstPort)} [${flags}] seq=${l4.seq}${tail}`;
  }
  if (l4?.kind === 'udp') return `${p.family} udp ${hostPort(p.src, l4.srcPort)} > ${hostPort(p.dst, l4.dstPort)}${tail}`;
  if (l4) return `${p.family} ${l4.kind} ${p.src} > ${p.dst} ${ICMP_NAMES[`${p.family}:${l4.type}`] ?? `type=${l4.type}`} code=${l4.code}${tail}`;
  return `${p.family} proto=${p.protocol} ${p.src} > ${p.dst}${tail}`;
}

function hostPort(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

export function formatMalformed(buf: Buffer, reason: string): string {
  return `malformed (${reason}) ${buf.length} bytes: ${buf.subarray(0, 24).toString('hex')}${buf.length > 24 ? '…' : ''}`;
}
