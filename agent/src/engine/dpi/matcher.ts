// Payload rules over TCP streams and UDP datagrams (each datagram on its own).
//
// TCP is inspected in sequence order: a segment is searched together with the window of bytes
// before it, so a pattern split across segments is caught. A retransmission is searched for its
// new bytes only (Linux keeps the first copy of overlapping data, so the bytes already inspected
// are the bytes the receiver has). A segment with data beyond a gap is dropped rather than inspected
// on its own: inspecting it with a reset window would let a sender split a pattern by reordering
// its segments; dropped, it is resent after the missing bytes, in order. A flow that matched a
// drop/reject rule stays blocked for the rest of its life.
//
// Known limits: a flow's state is lost when it idles past `flowIdleMs` or is evicted at `maxFlows`;
// it restarts at the next segment with an empty window, so a pattern split across that point passes.
import type { Direction, PayloadRule, Policy } from '../../policy/schema.js';
import { flowKey } from '../../packet/flow.js';
import { IPPROTO_TCP, IPPROTO_UDP, TCP_FIN, TCP_RST, TCP_SYN, type Packet, type TcpHeader } from '../../packet/types.js';
import { portsMatch } from '../match.js';
import type { Verdict } from '../verdict.js';
import { compilePattern, type CompiledPattern } from './pattern.js';
import { FlowTable, remember, seqDiff, tailOf } from './stream.js';

interface CompiledRule {
  rule: PayloadRule;
  protocol: number;
  pattern: CompiledPattern;
  verdict: Verdict;
  /** For the later packets of a flow this rule blocked: same action, no second ban. */
  blocked: Verdict;
}

export interface MatcherLimits {
  maxFlows: number;
  flowIdleMs: number;
}

const EMPTY = Buffer.alloc(0);

const GAP: Verdict = {
  action: 'drop',
  by: { kind: 'flow', name: 'out-of-order' },
  reason: 'segment beyond a gap on an inspected flow: dropped until the sender fills the gap',
};

export class PayloadMatcher {
  readonly #rules: CompiledRule[];
  readonly #flows: FlowTable;

  constructor(policy: Policy, limits: MatcherLimits, flows?: FlowTable) {
    this.#rules = policy.payloadRules.map(compileRule);
    // Flow state survives a policy reload: the streams in flight are the same streams.
    this.#flows = flows ?? new FlowTable(limits.maxFlows, limits.flowIdleMs);
  }

  get flows(): FlowTable {
    return this.#flows;
  }

  /**
   * null: nothing to say (accept as far as payload rules go). `established`: the kernel queued the
   * packet as part of an accepted flow.
   */
  check(p: Packet, direction: Direction, established: boolean, now: number): Verdict | null {
    if (this.#rules.length === 0 || p.l4 === null) return null;
    // The widest window any rule watching this packet needs; -1 when none watches it. Two passes
    // over the (few) rules instead of a filtered array: no allocation per packet.
    let carry = -1;
    for (const c of this.#rules) if (watches(c, p, direction) && c.pattern.carry > carry) carry = c.pattern.carry;
    if (carry < 0) return null;
    const payload = p.buf.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength);
    if (p.l4.kind === 'tcp') return this.#tcp(p, p.l4, payload, carry, direction, established, now);
    return payload.length > 0 ? (this.#search(p, direction, EMPTY, payload, 0)?.verdict ?? null) : null;
  }

  #tcp(p: Packet, l4: TcpHeader, payload: Buffer, carry: number, direction: Direction, established: boolean, now: number): Verdict | null {
    const key = flowKey(p);
    const syn = (l4.flags & TCP_SYN) !== 0;
    const start = syn ? (l4.seq + 1) >>> 0 : l4.seq; // a SYN's data (TCP Fast Open) starts at ISN + 1
    let s = this.#flows.get(key, now);
    if (syn && !established) {
      // A new connection (conntrack says so) starts the stream afresh, whatever came before.
      s = this.#flows.open(key, start, now);
    } else if (s === undefined) {
      s = this.#flows.open(key, start, now);
    } else {
      if (s.blocked !== null) return s.blocked;
      // A SYN inside a flow we follow is discarded by the receiver (RFC 5961 challenge ACK);
      // letting it restart the state would let the sender wipe the window or unblock the flow.
      if (syn) return null;
    }
    const ahead = seqDiff(start, s.nextSeq);
    // Beyond a gap: not `lastSeen`, so a flow stuck on bytes we never saw (queue bypass) expires
    // and restarts instead of being dropped for ever. A FIN or RST there ends nothing either.
    if (ahead > 0) return payload.length > 0 ? GAP : null;
    s.lastSeen = now;
    const data = ahead < 0 ? payload.subarray(Math.min(payload.length, -ahead)) : payload;
    let verdict: Verdict | null = null;
    if (data.length > 0) {
      const hit = this.#search(p, direction, tailOf(s), data, s.seen);
      if (hit !== null && hit.verdict.action !== 'accept') {
        s.blocked = hit.blocked;
        return hit.verdict;
      }
      // After a log-only match the window restarts, so the same bytes are not reported again
      // with the next segment.
      if (hit !== null) s.windowLength = 0;
      else remember(s, data, carry);
      verdict = hit?.verdict ?? null;
      s.seen += data.length;
      s.nextSeq = (s.nextSeq + data.length) >>> 0;
    }
    // Only an in-order FIN/RST ends the state: the receiver ignores others, and a sender must not
    // be able to wipe the window with one while the connection goes on.
    if (ahead === 0 && (l4.flags & (TCP_FIN | TCP_RST)) !== 0) this.#flows.close(key);
    return verdict;
  }

  /** A drop or reject wins over a log-only match, whatever the rules' order. */
  #search(p: Packet, direction: Direction, tail: Buffer, data: Buffer, seen: number): CompiledRule | null {
    let logged: CompiledRule | null = null;
    for (const c of this.#rules) {
      if (!watches(c, p, direction) || (c.rule.depth !== undefined && seen >= c.rule.depth)) continue;
      if (!c.pattern.test(tail, data)) continue;
      if (c.verdict.action !== 'accept') return c;
      logged ??= c;
    }
    return logged;
  }

  sweep(now: number): void {
    this.#flows.sweep(now);
  }
}

/** For inbound and outbound rules alike, `ports` are the packet's destination ports. */
function watches(c: CompiledRule, p: Packet, direction: Direction): boolean {
  return c.rule.direction === direction && c.protocol === p.protocol && portsMatch(c.rule.ports, p);
}

function compileRule(rule: PayloadRule): CompiledRule {
  const action = rule.action === 'log' ? 'accept' : rule.action;
  const by = { kind: 'payload', name: rule.name } as const;
  // A ban names the packet's source; outbound, that is this server, so outbound rules never ban.
  const ban = rule.ban === false || rule.direction === 'outbound' ? undefined : { durationMs: rule.ban };
  return {
    rule,
    protocol: rule.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
    pattern: compilePattern(rule.pattern),
    verdict: { action, by, reason: `payload matched rule ${rule.name}`, ban, log: rule.action === 'log' },
    blocked: { action, by, reason: `flow blocked earlier by payload rule ${rule.name}` },
  };
}
