// What rules, rate limits and payload rules share: matching a packet's protocol and destination port.
import type { PortRange } from '../policy/units.js';
import type { Protocol } from '../policy/schema.js';
import type { Packet } from '../packet/types.js';

export function protocolMatches(want: Protocol, p: Packet): boolean {
  if (want === 'any') return true;
  const kind = p.l4?.kind;
  return kind === want;
}

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
