// The engine: a pure function of the policy, the packet and the time (from the Clock it is given).
// For a new packet, in order: static rules → rate limits → SYN flood → ICMP flood and oversized
// echo → port scan → payload. Packets of an accepted flow (queued for payload rules only) go to the
// payload matcher alone.
import type { Direction, Policy } from '../policy/schema.js';
import type { Packet } from '../packet/types.js';
import { IcmpDetector, PortScanDetector, SynFloodDetector, type SourceTracker } from './detectors.js';
import { PayloadMatcher } from './dpi/matcher.js';
import { RateLimits } from './ratelimit.js';
import { StaticRules } from './rules.js';
import { addressKey } from '../tables/address-key.js';
import { describeBy, type Verdict, type VerdictAction } from './verdict.js';

export interface Clock {
  now(): number;
}

export interface JudgeContext {
  direction: Direction;
  /** The kernel queued it as part of an accepted flow (ESTABLISHED_MARK). */
  established: boolean;
}

export interface EngineStats {
  verdicts: Record<VerdictAction, number>;
  /** Packets per decider, e.g. "rule:ssh", "detector:synFlood", "malformed:bad-ihl". */
  decidedBy: Record<string, number>;
  /** Packets per decider and action: a decider's action can change with a reload (defaults, malformed). */
  verdictsBy: Record<string, Partial<Record<VerdictAction, number>>>;
  /** Packets each detector stopped, by detector name. */
  detectorHits: Record<string, number>;
  /** Packets each payload rule matched, by rule name (whatever its action, `log` included). */
  payloadMatches: Record<string, number>;
  tracked: { sources: number; flows: number; flowEvictions: number };
}

const ESTABLISHED: Verdict = { action: 'accept', by: { kind: 'flow', name: 'established' }, reason: 'part of an accepted flow' };

class Pipeline {
  readonly rules: StaticRules;
  readonly rateLimits: RateLimits;
  readonly syn: SynFloodDetector;
  readonly icmp: IcmpDetector;
  readonly scan: PortScanDetector;
  readonly payload: PayloadMatcher;
  readonly malformed: Verdict['action'];
  readonly trackers: SourceTracker[];

  constructor(policy: Policy, previous?: Pipeline) {
    const { sources, flows, flowIdle } = policy.limits;
    this.rules = new StaticRules(policy);
    this.rateLimits = new RateLimits(policy, sources);
    this.syn = new SynFloodDetector(policy.detectors.synFlood, sources);
    this.icmp = new IcmpDetector(policy.detectors, sources);
    this.scan = new PortScanDetector(policy.detectors.portScan, sources);
    this.payload = new PayloadMatcher(policy, { maxFlows: flows, flowIdleMs: flowIdle }, previous?.payload.flows);
    this.malformed = policy.defaults.malformed;
    this.trackers = [this.syn, this.icmp, this.scan, this.rateLimits];
  }
}

export class Engine {
  readonly #clock: Clock;
  #p: Pipeline;
  readonly #verdicts: Record<VerdictAction, number> = { accept: 0, drop: 0, reject: 0 };
  /** Packets per verdict object: every verdict is made once per policy, so counting builds nothing. */
  readonly #decided = new Map<Verdict, number>();
  /** One verdict object per malformed reason (the decoder has a fixed few). */
  readonly #malformed = new Map<string, Verdict>();

  constructor(policy: Policy, clock: Clock) {
    this.#clock = clock;
    this.#p = new Pipeline(policy);
  }

  /**
   * On reload: rules and detectors rebuilt from the new policy (per-source counts start afresh);
   * payload streams in flight kept, unless limits.flows changed.
   */
  replacePolicy(policy: Policy): void {
    this.#p = new Pipeline(policy, this.#p);
  }

  judge(packet: Packet, ctx: JudgeContext): Verdict {
    return this.#count(this.#judge(packet, ctx, this.#clock.now()));
  }

  judgeMalformed(reason: string): Verdict {
    let v = this.#malformed.get(reason);
    if (v === undefined || v.action !== this.#p.malformed) {
      v = { action: this.#p.malformed, by: { kind: 'malformed', name: reason }, reason: `undecodable packet: ${reason}` };
      this.#malformed.set(reason, v);
    }
    return this.#count(v);
  }

  #judge(p: Packet, ctx: JudgeContext, now: number): Verdict {
    const x = this.#p;
    if (ctx.established) return x.payload.check(p, ctx.direction, true, now) ?? ESTABLISHED;
    const base = x.rules.judge(p, ctx.direction);
    if (ctx.direction === 'outbound') {
      // The detectors watch remote sources; outbound, the source is this server.
      if (base.action !== 'accept') return base;
      return x.rateLimits.check(p, 'outbound', now) ?? x.payload.check(p, 'outbound', false, now) ?? base;
    }
    if (base.action !== 'accept') {
      // Refused anyway, but still counted: flooding or scanning closed ports earns the source a
      // ban, which spares the queue its next packets. Rate limits and payload rules have nothing to add.
      return x.syn.check(p, now) ?? x.icmp.check(p, now) ?? x.scan.check(p, now) ?? base;
    }
    return x.rateLimits.check(p, 'inbound', now) ?? x.syn.check(p, now) ?? x.icmp.check(p, now) ?? x.payload.check(p, 'inbound', false, now) ?? base;
  }

  #count(v: Verdict): Verdict {
    this.#verdicts[v.action]++;
    this.#decided.set(v, (this.#decided.get(v) ?? 0) + 1);
    return v;
  }

  /** Forgets a source's rate and scan state (after an unban: a fresh start). */
  forget(address: string): void {
    const key = addressKey(address);
    for (const t of this.#p.trackers) t.forget(key);
  }

  /**
   * Drops state that no longer says anything; the daemon calls it every few seconds. The time is
   * the engine's clock: pass nothing (the parameter stays for callers that still pass one).
   */
  sweep(now: number = this.#clock.now()): void {
    for (const t of this.#p.trackers) t.sweep(now);
    this.#p.payload.sweep(now);
  }

  stats(): EngineStats {
    const x = this.#p;
    const decidedBy: Record<string, number> = {};
    const verdictsBy: EngineStats['verdictsBy'] = {};
    const detectorHits: Record<string, number> = {};
    const payloadMatches: Record<string, number> = {};
    for (const [v, n] of this.#decided) {
      const k = describeBy(v.by);
      decidedBy[k] = (decidedBy[k] ?? 0) + n;
      const actions = (verdictsBy[k] ??= {});
      actions[v.action] = (actions[v.action] ?? 0) + n;
      if (v.by.kind === 'detector') detectorHits[v.by.name] = (detectorHits[v.by.name] ?? 0) + n;
      if (v.by.kind === 'payload') payloadMatches[v.by.name] = (payloadMatches[v.by.name] ?? 0) + n;
    }
    return {
      verdicts: { ...this.#verdicts },
      decidedBy,
      verdictsBy,
      detectorHits,
      payloadMatches,
      tracked: { sources: x.trackers.reduce((n, t) => n + t.tracked, 0), flows: x.payload.flows.size, flowEvictions: x.payload.flows.evictions },
    };
  }
}
