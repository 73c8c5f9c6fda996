// Per-source rate limits from the policy: one token bucket table per limit, on the new
// connections (and ICMP) that match it. Keyed by the packet's source: for an outbound limit that
// is this server's own address, so the limit caps the server's new connections as a whole.
import type { Direction, Policy, RateLimit } from '../policy/schema.js';
import type { Packet } from '../packet/types.js';
import { formatDuration } from '../policy/units.js';
import { PortMatch, RuleIndex, sourceKey } from './match.js';
import type { SourceTracker } from './detectors.js';
import { EMPTY, TokenBuckets } from './token-bucket.js';
import type { Verdict } from './verdict.js';

interface Limit {
  name: string;
  direction: Direction;
  protocol: RateLimit['protocol'];
  ports: PortMatch;
  buckets: TokenBuckets;
  verdict: Verdict;
}

export class RateLimits implements SourceTracker {
  readonly #limits: RuleIndex<Limit>;
  readonly #all: Limit[];

  /** `previous`: the last policy's limits, whose tables a limit of the same name takes over. */
  constructor(policy: Policy, maxSources: number, previous?: RateLimits) {
    const before = new Map(previous ? previous.#all.map((l) => [l.name, l.buckets]) : []);
    this.#all = policy.rateLimits.map((limit) => ({
      name: limit.name,
      direction: limit.direction,
      protocol: limit.protocol,
      ports: new PortMatch(limit),
      buckets: new TokenBuckets(limit, maxSources, before.get(limit.name)),
      verdict: {
        action: 'drop',
        by: { kind: 'ratelimit', name: limit.name },
        reason: `over ${limit.rate}/${formatDuration(limit.per)} (burst ${limit.burst})`,
        // A ban names the packet's source; outbound, that is this server, so outbound limits only drop.
        ban: limit.ban === false || limit.direction === 'outbound' ? undefined : { durationMs: limit.ban },
      },
    }));
    this.#limits = new RuleIndex(this.#all);
  }

  check(p: Packet, direction: Direction, now: number): Verdict | null {
    const limits = this.#limits.for(direction, p.family, p.protocol);
    if (limits.length === 0) return null;
    for (const l of limits) {
      if (l.ports.matches(p, direction) && l.buckets.take(sourceKey(p), now) === EMPTY) return l.verdict;
    }
    return null;
  }

  forget(key: Uint32Array): void {
    for (const l of this.#all) l.buckets.forget(key);
  }

  sweep(now: number): void {
    for (const l of this.#all) l.buckets.sweep(now);
  }

  get tracked(): number {
    return this.#all.reduce((n, l) => n + l.buckets.size, 0);
  }
}
