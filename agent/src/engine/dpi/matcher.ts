// Payload rules over TCP streams and UDP datagrams. TCP is inspected in order: a segment is
// searched together with the tail of what came before it (so a split pattern is caught); a
// retransmission is searched for its new bytes only; a segment beyond a gap is dropped, so the
// sender resends in order and nothing passes uninspected. A flow that matched a drop/reject rule
// stays blocked for the rest of its life (retransmissions included).
import type { Direction, PayloadRule, Policy } from '../../policy/schema.js';
import { flowKey } from '../../packet/flow.js';
import { TCP_FIN, TCP_RST, TCP_SYN, type Packet } from '../../packet/types.js';
import { portsMatch } from '../match.js';
import type { Verdict } from '../verdict.js';
import { compilePattern, type CompiledPattern } from './pattern.js';
import { FlowTable, nextTail, seqDiff } from './stream.js';

interface CompiledRule {
  rule: PayloadRule;
  pattern: CompiledPattern;
  verdict: Verdict;
}

export interface MatcherLimits {
  maxFlows: number;
  flowIdleMs: number;
}

export class PayloadMatcher {
  readonly #rules: CompiledRule[];
  readonly #flows: FlowTable;
  readonly #gapVerdict: Verdict = { action: 'drop', by: { kind: 'payload', name: 'out-of-order' }, reason: 'segment beyond a gap on an inspected flow: dropped until the sender fills the gap' };

  constructor(policy: Policy, limits: MatcherLimits, flows?: FlowTable) {
    this.#rules = policy.payloadRules.map((rule) => ({
      rule,
      pattern: compilePattern(rule.pattern),
      verdict: {
        action: rule.action === 'log' ? 'accept' : rule.action,
        by: { kind: 'payload', name: rule.name },
        reason: `payload matched rule ${rule.name}`,
        ban: rule.ban === false ? undefined : { durationMs: rule.ban },
        log: rule.action === 'log',
      },
    }));
    // Flow state survives a policy reload: the streams in flight are the same streams.
    this.#flows = flows ?? new FlowTable(limits.maxFlows, limits.flowIdleMs);
  }

  get flows(): FlowTable {
    return this.#flows;
  }

  get active(): boolean {
    return this.#rules.length > 0;
  }

  #watching(p: Packet, direction: Direction): CompiledRule[] {
    const kind = p.l4?.kind;
    return this.#rules.filter((c) => c.rule.direction === direction && c.rule.protocol === kind && portsMatch(c.rule.ports, p));
  }

  /** null: nothing to say (accept as far as payload rules go). */
  check(p: Packet, direction: Direction, now: number): Verdict | null {
    if (this.#rules.length === 0 || p.l4 === null) return null;
    const rules = this.#watching(p, direction);
    if (rules.length === 0) return null;
    const payload = p.buf.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength);
    if (p.l4.kind === 'udp') return payload.length > 0 ? firstMatch(rules, payload) : null;
    if (p.l4.kind !== 'tcp') return null;
    return this.#tcp(p, p.l4.seq, p.l4.flags, payload, rules, now);
  }

  #tcp(p: Packet, seq: number, flags: number, payload: Buffer, rules: CompiledRule[], now: number): Verdict | null {
    const key = flowKey(p);
    let s = this.#flows.get(key);
    if (flags & TCP_SYN) {
      this.#flows.open(key, (seq + 1) >>> 0, now);
      return null;
    }
    s ??= this.#flows.open(key, seq, now);
    s.lastSeen = now;
    if (s.blockedBy !== null) return this.#rules.find((c) => c.rule.name === s!.blockedBy)?.verdict ?? null;
    let data = payload;
    const ahead = seqDiff(seq, s.nextSeq);
    if (ahead > 0 && payload.length > 0) return this.#gapVerdict;
    if (ahead < 0) data = payload.subarray(Math.min(payload.length, -ahead)); // already inspected bytes
    let verdict: Verdict | null = null;
    if (data.length > 0) {
      const carry = Math.max(...rules.map((c) => c.pattern.carry));
      const live = rules.filter((c) => c.rule.depth === undefined || s!.seen < c.rule.depth);
      verdict = live.length > 0 ? firstMatch(live, s.tail.length > 0 ? Buffer.concat([s.tail, data]) : data) : null;
      if (verdict && verdict.action !== 'accept') {
        s.blockedBy = verdict.by.name;
        return verdict;
      }
      s.tail = nextTail(s.tail, data, carry);
      s.seen += data.length;
      s.nextSeq = (s.nextSeq + data.length) >>> 0;
    }
    if (flags & (TCP_FIN | TCP_RST)) this.#flows.close(key);
    return verdict;
  }

  sweep(now: number): void {
    this.#flows.sweep(now);
  }
}

/** A drop or reject wins over a log-only match, whatever the rules' order. */
function firstMatch(rules: CompiledRule[], data: Buffer): Verdict | null {
  let logged: Verdict | null = null;
  for (const c of rules) {
    if (!c.pattern.test(data)) continue;
    if (c.verdict.action !== 'accept') return c.verdict;
    logged ??= c.verdict;
  }
  return logged;
}
