// Per-source rate limits from the policy: one token bucket table per limit, on the new
// connections (and ICMP) that match it. Keyed by the packet's source: for an outbound limit that
// is this server's own address, so the limit caps the server's new connections as a whole.
import type { Direction, Policy, RateLimit } from '../policy/schema.js';
import type { Packet } from '../packet/types.js';
import { formatDuration } from '../policy/units.js';
import { destinationPort, PortSet, RuleIndex, sourceKey } from './match.js';
import type { SourceTracker } from './detectors.js';
import { EMPTY, TokenBuckets } from './token-bucket.js';
import type { Verdict } from './verdict.js';

interface Limit {
  direction: Direction;
  protocol: RateLimit['protocol'];
  ports: PortSet;
  buckets: TokenBuckets;
  verdict: Verdict;
}

export class RateLimits implements SourceTracker {
  readonly #limits: RuleIndex<Limit>;
  readonly #all: Limit[];

  constructor(policy: Policy, maxSources: number) {
    this.#all = policy.rateLimits.map((limit) => ({
      direction: limit.direction,
      protocol: limit.protocol,
      ports: new PortSet(limit.ports),
      buckets: new TokenBuckets(limit, maxSources),
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
    const port = destinationPort(p);
    for (const l of limits) {
      if (l.ports.has(port) && l.buckets.take(sourceKey(p), now) === EMPTY) return l.verdict;
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
