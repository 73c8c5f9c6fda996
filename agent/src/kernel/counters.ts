// What the kernel decided without the agent, from the packet counters of our own rules
// (`iptables-save -c`): exact, where the agent only sees what is queued and samples of what is
// refused. Read on demand (status, metrics, the overflow watch), never per packet.
import { CHAINS, type Family } from './names.js';

export interface KernelCounters {
  /** Packets sent to the queue by any of our rules: what the agent should have judged. */
  queued: number;
  /** Dropped before connection tracking: banned addresses, banned networks, denied networks. */
  banned: number;
  bannedNetworks: number;
  denied: number;
  /** Dropped by the per-source bound in front of the queue. */
  overPerSourceBound: number;
  /** Invalid conntrack state, or new TCP that is not a SYN. */
  invalid: number;
  /** IPv6 packets from the unspecified address (`::`) other than neighbour discovery. */
  unspecifiedSource: number;
  /** New packets each static rule decided in the kernel ("rule:NAME", "default:inbound"). */
  rules: Record<string, number>;
}

export function emptyCounters(): KernelCounters {
  return { queued: 0, banned: 0, bannedNetworks: 0, denied: 0, overPerSourceBound: 0, invalid: 0, unspecifiedSource: 0, rules: {} };
}

const OURS = new Set<string>(Object.values(CHAINS));
const LINE = /^\[(\d+):\d+\] -A (\S+) (.*)$/;
const COMMENT = /--comment "vpsfw: ([^"]*)"/;

/** Adds the counters of our rules in an `iptables-save -c` listing (any table) to `into`. */
export function addCounters(listing: string, into: KernelCounters = emptyCounters()): KernelCounters {
  for (const line of listing.split('\n')) {
    const m = LINE.exec(line);
    if (!m || !OURS.has(m[2]!)) continue;
    const packets = Number(m[1]);
    const rest = m[3]!;
    if (/-j NFQUEUE\b/.test(rest)) into.queued += packets;
    const what = COMMENT.exec(rest)?.[1];
    if (what === undefined) continue;
    if (what === 'banned') into.banned += packets;
    else if (what === 'banned network') into.bannedNetworks += packets;
    else if (what === 'denied network') into.denied += packets;
    else if (what === 'one source cannot fill the queue') into.overPerSourceBound += packets;
    else if (what === 'invalid' || what === 'new TCP must start with SYN') into.invalid += packets;
    else if (what === 'unspecified source') into.unspecifiedSource += packets;
    else if (what.startsWith('rule ') || what.startsWith('default ')) {
      const key = what.startsWith('rule ') ? `rule:${what.slice(5)}` : `default:${what.slice(8)}`;
      into.rules[key] = (into.rules[key] ?? 0) + packets;
    }
  }
  return into;
}

/** The counters of both families' raw and mangle tables, read through `save`. */
export async function readCounters(save: (family: Family, table: 'raw' | 'mangle') => Promise<string>): Promise<KernelCounters> {
  const c = emptyCounters();
  for (const family of [4, 6] as const) for (const table of ['raw', 'mangle'] as const) addCounters(await save(family, table), c);
  return c;
}

/**
 * What the queue was sent but the agent never judged: fail-open overflow (the kernel let it by),
 * fail-closed overflow (dropped), and packets that met no listener. The kernel counts none of the
 * first, so it is derived: packets our rules queued, less those the agent received, less those
 * still waiting in the queue. An apply declares our chains anew and their counters restart at
 * zero: `rebase` carries the total over it.
 */
export class Unjudged {
  #queuedBefore = 0;
  #lastQueued = 0;

  /** `queued`: the kernel's count now; `received`: the agent's since it started; `waiting`: in the queue now. */
  total(queued: number, received: number, waiting: number): number {
    this.#lastQueued = queued;
    return Math.max(0, this.#queuedBefore + queued - received - waiting);
  }

  /** Before an apply: what the counters say now (read just before) is kept. */
  rebase(queuedNow: number = this.#lastQueued): void {
    this.#queuedBefore += queuedNow;
    this.#lastQueued = 0;
  }
}
