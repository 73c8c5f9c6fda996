// What rules, rate limits and payload rules share: matching a packet's protocol and destination port.
import type { PortRange } from '../policy/units.js';
import type { Protocol } from '../policy/schema.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, type Packet } from '../packet/types.js';

/**
 * By the IP protocol number, not the decoded transport header, so a later fragment (no header to
 * read) still matches its protocol. ICMP is IPv4's, ICMPv6 is IPv6's.
 */
export function protocolMatches(want: Protocol, p: Packet): boolean {
  switch (want) {
    case 'any':
      return true;
    case 'tcp':
      return p.protocol === IPPROTO_TCP;
    case 'udp':
      return p.protocol === IPPROTO_UDP;
    case 'icmp':
      return p.family === 4 && p.protocol === IPPROTO_ICMP;
    case 'icmpv6':
      return p.family === 6 && p.protocol === IPPROTO_ICMPV6;
  }
}

/** The TCP/UDP destination port, or -1 when the packet has none (ICMP, a later fragment). */
export function destinationPort(p: Packet): number {
  const l4 = p.l4;
  return l4 !== null && (l4.kind === 'tcp' || l4.kind === 'udp') ? l4.dstPort : -1;
}

/** Absent ports match every packet; present ones only TCP/UDP packets to one of them. */
export function portsMatch(ports: readonly PortRange[] | undefined, p: Packet): boolean {
  if (ports === undefined) return true;
  const port = destinationPort(p);
  for (const r of ports) if (port >= r.from && port <= r.to) return true;
  return false;
}
