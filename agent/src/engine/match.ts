// What rules, rate limits, detectors and payload rules share: finding the entries that apply to a
// packet's direction, family and protocol, matching its ports by side (this server's, the remote
// host's) and its interface, and its source as a table key. All compiled once per policy, so
// judging a packet builds nothing.
import type { Direction, Protocol } from '../policy/schema.js';
import type { PortRange } from '../policy/units.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, SRC_OFFSET, type Packet } from '../packet/types.js';
import { addressKeyAt, WORDS } from '../tables/address-key.js';

/**
 * By the IP protocol number, not the decoded transport header, so a later fragment (no header to
 * read) still matches its protocol. ICMP is IPv4's, ICMPv6 is IPv6's.
 */
export function protocolMatches(want: Protocol, family: 4 | 6, protocol: number): boolean {
  switch (want) {
    case 'any':
      return true;
    case 'tcp':
      return protocol === IPPROTO_TCP;
    case 'udp':
      return protocol === IPPROTO_UDP;
    case 'icmp':
      return family === 4 && protocol === IPPROTO_ICMP;
    case 'icmpv6':
      return family === 6 && protocol === IPPROTO_ICMPV6;
  }
}

/**
 * The entries of a policy list that can apply to a packet, by direction, family and protocol, in
 * the list's order: one array lookup per packet instead of a test per entry.
 */
export class RuleIndex<T extends { direction: Direction; protocol: Protocol }> {
  readonly #items: readonly T[];
  readonly #lists: Record<Direction, Array<readonly T[] | undefined>> = { inbound: [], outbound: [] };

  constructor(items: readonly T[]) {
    this.#items = items;
  }

  get size(): number {
    return this.#items.length;
  }

  for(direction: Direction, family: 4 | 6, protocol: number): readonly T[] {
    const lists = this.#lists[direction];
    const at = (family === 4 ? 0 : 256) + protocol;
    return (lists[at] ??= this.#items.filter((i) => i.direction === direction && protocolMatches(i.protocol, family, protocol)));
  }
}

/** The TCP/UDP destination port, or -1 when the packet has none (ICMP, a later fragment). */
export function destinationPort(p: Packet): number {
  const l4 = p.l4;
  return l4 !== null && (l4.kind === 'tcp' || l4.kind === 'udp') ? l4.dstPort : -1;
}

/** Port ranges as compiled: absent ones match every port (-1, no port, included). */
export class PortSet {
  readonly #bounds: Int32Array | null;

  constructor(ranges: readonly PortRange[] | undefined) {
    this.#bounds = ranges === undefined ? null : Int32Array.from(ranges.flatMap((r) => [r.from, r.to]));
  }

  has(port: number): boolean {
    const b = this.#bounds;
    if (b === null) return true;
    for (let i = 0; i < b.length; i += 2) if (port >= b[i]! && port <= b[i + 1]!) return true;
    return false;
  }
}

/**
 * A rule's localPorts and remotePorts: this server's port is a packet's destination inbound and
 * its source outbound. With neither, every packet matches; with either, only TCP and UDP.
 */
export class PortMatch {
  readonly #local: PortSet;
  readonly #remote: PortSet;
  readonly #any: boolean;

  constructor(entry: { localPorts?: readonly PortRange[] | undefined; remotePorts?: readonly PortRange[] | undefined }) {
    this.#local = new PortSet(entry.localPorts);
    this.#remote = new PortSet(entry.remotePorts);
    this.#any = entry.localPorts === undefined && entry.remotePorts === undefined;
  }

  matches(p: Packet, direction: Direction): boolean {
    if (this.#any) return true;
    const l4 = p.l4;
    if (l4 === null || (l4.kind !== 'tcp' && l4.kind !== 'udp')) return false;
    const inbound = direction === 'inbound';
    return this.#local.has(inbound ? l4.dstPort : l4.srcPort) && this.#remote.has(inbound ? l4.srcPort : l4.dstPort);
  }
}

/** Interface names for an interface index (the kernel's); the daemon reads them from the system. */
export type InterfaceNames = (ifindex: number) => string | undefined;

/** A rule's interfaces, as iptables' -i/-o takes them: a name, or a prefix ending in "+". */
export class InterfaceMatch {
  readonly #names: readonly string[] | null;

  constructor(names: readonly string[] | undefined) {
    this.#names = names ?? null;
  }

  matches(name: string | undefined): boolean {
    const names = this.#names;
    if (names === null) return true;
    if (name === undefined) return false;
    for (const n of names) if (n.endsWith('+') ? name.startsWith(n.slice(0, -1)) : name === n) return true;
    return false;
  }

  get any(): boolean {
    return this.#names === null;
  }
}

const SOURCE = { 4: new Uint32Array(WORDS[4]), 6: new Uint32Array(WORDS[6]) };

/** The packet's source as a table key (tables/address-key.ts): one shared array per family, valid until the next call. */
export function sourceKey(p: Packet): Uint32Array {
  const key = SOURCE[p.family];
  addressKeyAt(key, 0, p.buf, SRC_OFFSET[p.family], p.family);
  return key;
}
