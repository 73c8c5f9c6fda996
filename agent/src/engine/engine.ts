// The engine: a pure function of the policy, the packet and the time (from the clock it is given).
// For a new packet the kernel queued (the static rules accepted it there), in order: static rules
// (to name the rule) → rate limits → SYN flood → ICMP flood and oversized echo → payload. Packets
// of an accepted flow (queued for payload rules) go to the payload matcher alone. Packets the
// kernel refused and showed us (NFLOG) are only observed: the flood and scan detectors count
// them, and may ban their source, but no verdict goes back.
import type { Direction, Policy } from '../policy/schema.js';
import { SRC_OFFSET, type Packet } from '../packet/types.js';
import { CidrSet } from './cidr.js';
import { IcmpDetector, isEchoRequest, PortScanDetector, SynFloodDetector, type SourceTracker } from './detectors.js';
import { PayloadMatcher } from './dpi/matcher.js';
import type { InterfaceNames } from './match.js';
import { RateLimits } from './ratelimit.js';
import { StaticRules } from './rules.js';
import { addressKey } from '../tables/address-key.js';
import { describeBy, type DecidedBy, type Verdict, type VerdictAction } from './verdict.js';

export interface Clock {
  now(): number;
  /** The name of an interface by its index; without it, rules naming interfaces match nothing. */
  interfaceName?: InterfaceNames;
}

export interface JudgeContext {
  direction: Direction;
  /** The kernel queued it as part of an accepted flow (ESTABLISHED_MARK). */
  established: boolean;
  /** The interface it came in on (inbound) or goes out on (outbound); 0 when unknown. */
  ifindex: number;
}

export type ByAction = Partial<Record<VerdictAction, number>>;

export interface EngineStats {
  verdicts: Record<VerdictAction, number>;
  /** Packets per decider, e.g. "rule:ssh", "detector:synFlood", "malformed:bad-ihl". */
  decidedBy: Record<string, number>;
  /** The same packets per decider and action: a decider's action can change with a reload (defaults, malformed). */
  verdictsBy: Record<string, ByAction>;
  /** The refused packets the kernel showed us (samples: at most queue.perSource a second per source), per decider. */
  observedBy: Record<string, number>;
  /** Packets each detector flagged, judged or observed, by detector name ("synFlood"). */
  detectorHits: Record<string, number>;
  /** Packets each payload rule matched, by rule name (whatever its action, `log` included). */
  payloadMatches: Record<string, number>;
  tracked: { sources: number; flows: number; flowEvictions: number };
}

const ESTABLISHED: Verdict = { action: 'accept', by: { kind: 'flow', name: 'established' }, reason: 'part of an accepted flow' };
/** The kernel drops denied networks before anything is judged; in audit mode it shows them to the agent instead. */
const DENIED: Verdict = { action: 'drop', by: { kind: 'deny', name: 'denyNetworks' }, reason: 'source in a denied network' };

class Pipeline {
  readonly rules: StaticRules;
  readonly rateLimits: RateLimits;
  readonly syn: SynFloodDetector;
  readonly icmp: IcmpDetector;
  readonly scan: PortScanDetector;
  readonly payload: PayloadMatcher;
  readonly malformed: Verdict['action'];
  readonly trackers: SourceTracker[];
  readonly denied: CidrSet;

  /** `previous`: the last policy's pipeline, whose tables are taken over where the sizes allow. */
  constructor(policy: Policy, interfaceName: InterfaceNames, previous?: Pipeline) {
    const { sources, flows, flowIdle } = policy.limits;
    this.rules = new StaticRules(policy, interfaceName);
    this.denied = new CidrSet(policy.denyNetworks);
    this.rateLimits = new RateLimits(policy, sources, previous?.rateLimits);
    this.syn = new SynFloodDetector(policy.detectors.synFlood, sources, previous?.syn);
    this.icmp = new IcmpDetector(policy.detectors, sources, previous?.icmp);
    this.scan = new PortScanDetector(policy.detectors.portScan, sources, previous?.scan);
    this.payload = new PayloadMatcher(policy, { maxFlows: flows, flowIdleMs: flowIdle }, previous?.payload.flows);
    this.malformed = policy.defaults.malformed;
    this.trackers = [this.syn, this.icmp, this.scan, this.rateLimits];
  }
}

export class Engine {
  readonly #clock: Clock;
  readonly #interfaceName: InterfaceNames;
  #p: Pipeline;
  readonly #verdicts: Record<VerdictAction, number> = { accept: 0, drop: 0, reject: 0 };
  /** Packets per verdict object: every verdict is made once per policy, so counting builds nothing. */
  readonly #decided = new Map<Verdict, number>();
  readonly #observed = new Map<Verdict, number>();
  /** The counts of the verdict objects of earlier policies, by decider and action: a reload folds them in. */
  readonly #decidedBefore: Record<string, ByAction> = {};
  readonly #observedBefore: Record<string, ByAction> = {};
  /** One verdict object per malformed reason (the decoder has a fixed few). */
  readonly #malformed = new Map<string, Verdict>();

  constructor(policy: Policy, clock: Clock) {
    this.#clock = clock;
    this.#interfaceName = clock.interfaceName ?? (() => undefined);
    this.#p = new Pipeline(policy, this.#interfaceName);
  }

  /**
   * On reload: rules and detectors rebuilt from the new policy; their per-source tables, and the
   * payload streams in flight, are taken over unless limits.sources or limits.flows changed, so
   * reloads neither allocate anew nor give a flooding source a fresh start.
   */
  replacePolicy(policy: Policy): void {
    this.#p = new Pipeline(policy, this.#interfaceName, this.#p);
    fold(this.#decided, this.#decidedBefore);
    fold(this.#observed, this.#observedBefore);
  }

  judge(packet: Packet, ctx: JudgeContext): Verdict {
    return this.#count(this.#judge(packet, ctx, this.#clock.now()));
  }

  /**
   * A packet the kernel's static rules refused and showed us (NFLOG): the detectors count it
   * (flooding or scanning closed ports earns a ban); no verdict goes back. Returns the decision
   * as the engine sees it, a detector's when one stops the source.
   */
  observe(p: Packet, ctx: Omit<JudgeContext, 'established'>): Verdict {
    const x = this.#p;
    const now = this.#clock.now();
    const base = ctx.direction === 'inbound' && x.denied.matches(p.buf, SRC_OFFSET[p.family], p.family) ? DENIED : x.rules.judge(p, ctx.direction, ctx.ifindex);
    const v = ctx.direction === 'inbound' ? (x.syn.check(p, now) ?? x.icmp.check(p, now) ?? x.scan.check(p, now) ?? base) : base;
    this.#observed.set(v, (this.#observed.get(v) ?? 0) + 1);
    return v;
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
    // Echo requests of a ping already answered are established to conntrack, but each is judged.
    if (ctx.established && !isEchoRequest(p)) return x.payload.check(p, ctx.direction, true, now) ?? ESTABLISHED;
    const base = x.rules.judge(p, ctx.direction, ctx.ifindex);
    if (ctx.direction === 'outbound') {
      // The detectors watch remote sources; outbound, the source is this server.
      if (base.action !== 'accept') return base;
      return x.rateLimits.check(p, 'outbound', now) ?? x.payload.check(p, 'outbound', false, now) ?? base;
    }
    if (base.action !== 'accept') {
      // The kernel refuses these itself; one reaches us only around a reload. Refused anyway, and
      // counted as an observed one would be: flooding or scanning closed ports earns a ban.
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
    const verdictsBy = fold(this.#decided, structuredClone(this.#decidedBefore), false);
    const observedBy = totals(fold(this.#observed, structuredClone(this.#observedBefore), false));
    const decidedBy = totals(verdictsBy);
    return {
      verdicts: { ...this.#verdicts },
      decidedBy,
      verdictsBy,
      observedBy,
      detectorHits: ofKind('detector', decidedBy, observedBy),
      payloadMatches: ofKind('payload', decidedBy),
      tracked: { sources: x.trackers.reduce((n, t) => n + t.tracked, 0), flows: x.payload.flows.size, flowEvictions: x.payload.flows.evictions },
    };
  }
}

/**
 * Adds counts per verdict object into `into`, per decider name ("rule:ssh") and action, and empties
 * the map unless told to keep it: a reload makes new verdict objects for the same deciders, and the
 * old ones must not pile up as keys.
 */
function fold(counts: Map<Verdict, number>, into: Record<string, ByAction>, clear = true): Record<string, ByAction> {
  for (const [v, n] of counts) {
    const actions = (into[describeBy(v.by)] ??= {});
    actions[v.action] = (actions[v.action] ?? 0) + n;
  }
  if (clear) counts.clear();
  return into;
}

/** Per decider, all actions together. */
function totals(by: Record<string, ByAction>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, actions] of Object.entries(by)) out[k] = Object.values(actions).reduce((a, b) => a + b, 0);
  return out;
}

/** The counts of one kind of decider ("detector:synFlood"), by name, summed over `sources`. */
function ofKind(kind: DecidedBy['kind'], ...sources: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  const prefix = `${kind}:`;
  for (const by of sources) {
    for (const [k, n] of Object.entries(by)) {
      if (!k.startsWith(prefix)) continue;
      const name = k.slice(prefix.length);
      out[name] = (out[name] ?? 0) + n;
    }
  }
  return out;
}
