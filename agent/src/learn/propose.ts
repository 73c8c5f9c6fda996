// From what was seen to a policy: the ports this host listens on that were used from outside
// (accept rules, by protocol and by the families used), each port's per-source connection rate at
// a high percentile with headroom (rate limits that only drop the excess), and the sources that
// only ever knocked on closed ports (deny-list candidates). Pure: observations in, a policy
// document and the reason for each of its entries out. The rest of the running policy is kept.
import { allowlistMatcher } from '../bans/allowlist.js';
import { parseTarget } from '../bans/target.js';
import { parseCidr, type Cidr } from '../policy/units.js';
import type { L4, Listener, Observation } from './observations.js';

export interface LearnOptions {
  /** Percentile of the sources' peak rates a rate limit must let through (e.g. 99). */
  percentile: number;
  /** Multiplier on that rate. */
  headroom: number;
  /** Distinct closed ports a source must have tried, having used no open one, to be a deny candidate. */
  minProbes: number;
}

export const DEFAULT_LEARN: LearnOptions = { percentile: 99, headroom: 2, minProbes: 2 };

/** The lowest limit proposed: a port used once or twice still allows a person's burst of retries. */
const FLOOR = { perMinute: 10, burst: 5 };
/** Events of one flow (SYN retransmissions, each logged) within this much count once. */
const SAME_FLOW_MS = 120_000;

export interface LearnInput {
  observations: readonly Observation[];
  listeners: readonly Listener[];
  isLocal(address: string): boolean;
  /** The running policy as its file holds it (the input form), or null. */
  current: Record<string, unknown> | null;
  options?: Partial<LearnOptions>;
}

export interface Reason {
  /** "rules.learned-tcp-22", "rateLimits.learned-rate-tcp-22", "denyNetworks.192.0.2.9/32" */
  item: string;
  why: string;
}

export interface Proposal {
  policy: Record<string, unknown>;
  reasons: Reason[];
  seen: { connections: number; sources: number; from: number | null; to: number | null };
}

interface PortUse {
  protocol: L4;
  port: number;
  families: Set<4 | 6>;
  bySource: Map<string, number[]>;
}

const percentile = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? 0;
};

/** The most events within any window of `ms` (times sorted). */
function peak(times: number[], ms: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= ms) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

function listens(listeners: readonly Listener[], o: Observation): boolean {
  return listeners.some((l) => {
    if (l.protocol !== o.protocol || l.port !== o.dport) return false;
    if (l.address === '::') return true; // both families unless IPV6_V6ONLY, which ss does not show
    if (l.address === '0.0.0.0') return o.family === 4;
    return l.address === o.dst;
  });
}

const familyText = (f: Set<4 | 6>) => [...f].sort().map((x) => `IPv${x}`).join(' and ');
const hostCidr = (a: string) => `${a}/${a.includes(':') ? 128 : 32}`;

export function propose(input: LearnInput): Proposal {
  const o = { ...DEFAULT_LEARN, ...input.options };
  const current = input.current ?? { version: 1 };
  const allowlisted = allowlistMatcher(((current.bans as { allowlist?: string[] } | undefined)?.allowlist ?? ['127.0.0.0/8', '::1/128']).map((c) => parseCidr(c)).filter((c): c is Cidr => c !== null));

  // One observation per flow, inbound only, from elsewhere.
  const lastOfFlow = new Map<string, number>();
  const inbound = [...input.observations]
    .sort((a, b) => a.at - b.at)
    .filter((x) => {
      if (input.isLocal(x.src) || !input.isLocal(x.dst)) return false;
      const key = `${x.protocol} ${x.src} ${x.sport} ${x.dport}`;
      const last = lastOfFlow.get(key);
      lastOfFlow.set(key, x.at);
      return last === undefined || x.at - last > SAME_FLOW_MS;
    });

  const used = new Map<string, PortUse>();
  const openers = new Set<string>();
  const closedTries = new Map<string, Set<string>>();
  for (const x of inbound) {
    if (listens(input.listeners, x)) {
      openers.add(x.src);
      const k = `${x.protocol}/${x.dport}`;
      const u = used.get(k) ?? { protocol: x.protocol, port: x.dport, families: new Set(), bySource: new Map() };
      used.set(k, u);
      u.families.add(x.family);
      const t = u.bySource.get(x.src) ?? [];
      t.push(x.at);
      u.bySource.set(x.src, t);
    } else {
      const s = closedTries.get(x.src) ?? new Set();
      s.add(`${x.protocol}/${x.dport}`);
      closedTries.set(x.src, s);
    }
  }

  const reasons: Reason[] = [];
  const ports = [...used.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
  const learnedRules = ports.map((u) => {
    const name = `learned-${u.protocol}-${u.port}`;
    const connections = [...u.bySource.values()].reduce((n, t) => n + t.length, 0);
    const only = u.families.size === 1 ? [...u.families][0] : undefined;
    reasons.push({ item: `rules.${name}`, why: `${u.protocol} ${u.port} is listened on and was used ${connections} time${connections > 1 ? 's' : ''} by ${u.bySource.size} source${u.bySource.size > 1 ? 's' : ''} over ${familyText(u.families)}${only ? `: open to IPv${only} only` : ''}` });
    return { name, action: 'accept', protocol: u.protocol, ports: [u.port], ...(only ? { source: [only === 4 ? '0.0.0.0/0' : '::/0'] } : {}) };
  });

  const currentLimits = (current.rateLimits as Array<{ name: string; ports?: Array<number | string>; protocol?: string }> | undefined) ?? [];
  const limited = (u: PortUse) => currentLimits.some((r) => (r.protocol === undefined || r.protocol === 'any' || r.protocol === u.protocol) && (r.ports === undefined || r.ports.some((p) => portCovers(p, u.port))));
  const learnedLimits = ports.filter((u) => !limited(u)).map((u) => {
    const name = `learned-rate-${u.protocol}-${u.port}`;
    const perMinute = [...u.bySource.values()].map((t) => peak(t, 60_000));
    const perSecond = [...u.bySource.values()].map((t) => peak(t, 1000));
    const pm = percentile(perMinute, o.percentile);
    const ps = percentile(perSecond, o.percentile);
    const rate = Math.max(FLOOR.perMinute, Math.ceil(pm * o.headroom));
    const burst = Math.max(FLOOR.burst, Math.ceil(ps * o.headroom));
    reasons.push({ item: `rateLimits.${name}`, why: `the p${o.percentile} of ${u.bySource.size} source${u.bySource.size > 1 ? 's\'' : '\'s'} busiest minute was ${pm} connection${pm === 1 ? '' : 's'} (busiest second ${ps}); ×${o.headroom} headroom, at least ${FLOOR.perMinute}/min and a burst of ${FLOOR.burst}: ${rate}/min, burst ${burst}; the excess is dropped, nobody banned` });
    return { name, protocol: u.protocol, ports: [u.port], rate, per: '1m', burst, ban: false };
  });

  const allowed = (src: string) => {
    const t = parseTarget(src);
    return t !== null && allowlisted(t) !== null;
  };
  const currentDeny = (current.denyNetworks as string[] | undefined) ?? [];
  const candidates = [...closedTries]
    .filter(([src, tries]) => !openers.has(src) && tries.size >= o.minProbes && !allowed(src) && !currentDeny.includes(hostCidr(src)))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([src, tries]) => {
      const list = [...tries].sort();
      reasons.push({ item: `denyNetworks.${hostCidr(src)}`, why: `tried ${tries.size} closed port${tries.size > 1 ? 's' : ''} (${list.slice(0, 8).join(', ')}${list.length > 8 ? ', …' : ''}) and never an open one` });
      return hostCidr(src);
    });

  // Kept from the running policy: its refusals (they come first, as they did), its ICMP accepts;
  // its TCP/UDP accepts are what learning replaces.
  const currentRules = (current.rules as Array<{ action?: string; protocol?: string }> | undefined) ?? [];
  const keptFirst = currentRules.filter((r) => r.action !== 'accept');
  const keptIcmp = currentRules.filter((r) => r.action === 'accept' && (r.protocol === 'icmp' || r.protocol === 'icmpv6'));
  const policy: Record<string, unknown> = {
    ...current,
    version: 1,
    defaults: { ...(current.defaults as object | undefined), inbound: 'drop' },
    rules: [...keptFirst, ...learnedRules, ...keptIcmp],
    rateLimits: [...currentLimits, ...learnedLimits],
    denyNetworks: [...currentDeny, ...candidates],
  };
  const sources = new Set(inbound.map((x) => x.src));
  return { policy, reasons, seen: { connections: inbound.length, sources: sources.size, from: inbound[0]?.at ?? null, to: inbound.at(-1)?.at ?? null } };
}

function portCovers(spec: number | string, port: number): boolean {
  if (typeof spec === 'number') return spec === port;
  const [from, to = from] = spec.split('-').map(Number);
  return from! <= port && port <= to!;
}
