// Per-source rate limits from the policy: one token bucket table per limit, on the new
// connections (and ICMP) that match it. Keyed by the packet's source: for an outbound limit that
// is this server's own address, so the limit caps the server's new connections as a whole.
import type { Direction, Policy, RateLimit } from '../policy/schema.js';
import type { Packet } from '../packet/types.js';
import { formatDuration } from '../policy/units.js';
import { portsMatch, protocolMatches } from './match.js';
import type { SourceTracker } from './detectors.js';
import { TokenBuckets } from './token-bucket.js';
import type { Verdict } from './verdict.js';

export class RateLimits implements SourceTracker {
  readonly #limits: Array<{ limit: RateLimit; buckets: TokenBuckets<string> }>;

  constructor(policy: Policy, maxSources: number) {
    this.#limits = policy.rateLimits.map((limit) => ({ limit, buckets: new TokenBuckets(limit, maxSources) }));
  }

  check(p: Packet, direction: Direction, now: number): Verdict | null {
    for (const { limit, buckets } of this.#limits) {
      if (limit.direction !== direction || !protocolMatches(limit.protocol, p) || !portsMatch(limit.ports, p)) continue;
      if (buckets.take(p.src, now)) continue;
      return {
        action: 'drop',
        by: { kind: 'ratelimit', name: limit.name },
        reason: `over ${limit.rate}/${formatDuration(limit.per)} (burst ${limit.burst}) from ${p.src}`,
        // A ban names the packet's source; outbound, that is this server, so outbound limits only drop.
        ban: limit.ban === false || limit.direction === 'outbound' ? undefined : { durationMs: limit.ban },
      };
    }
    return null;
  }

  forget(src: string): void {
    for (const l of this.#limits) l.buckets.forget(src);
  }

  sweep(now: number): void {
    for (const l of this.#limits) l.buckets.sweep(now);
  }

  get tracked(): number {
    return this.#limits.reduce((n, l) => n + l.buckets.size, 0);
  }
}
