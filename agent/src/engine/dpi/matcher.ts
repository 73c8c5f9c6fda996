// Payload rules over TCP streams and UDP datagrams (each datagram on its own), per direction.
//
// TCP is inspected in sequence order: a segment is searched together with the window of bytes
// before it, so a pattern split across segments is caught. A retransmission is searched for its
// new bytes only (Linux keeps the first copy of overlapping data, so the bytes already inspected
// are the bytes the receiver has). A segment with data beyond a gap is dropped rather than inspected
// on its own: inspecting it with a reset window would let a sender split a pattern by reordering
// its segments; dropped, it is resent after the missing bytes, in order. A flow that matched a
// drop/reject rule stays blocked for the rest of its life.
//
// A rule's `depth` counts the payload bytes of the flow in its direction from the first one: a
// match counts when it starts within them (the leftmost match of each search decides), so one
// that starts there and crosses the limit is caught. Once no rule watching a flow can match any
// more (each is past its depth by its pattern's length), the verdict says so (`done`) and the
// kernel stops queueing that flow in that direction.
//
// Known limits: a flow's state is lost when it idles past `flowIdleMs` or is evicted at `maxFlows`;
// it restarts at the next segment with an empty window, so a pattern split across that point passes.
import type { Direction, PayloadRule, Policy } from '../../policy/schema.js';
import { FLOW_WORDS, flowKey } from '../../packet/flow.js';
import { TCP_FIN, TCP_RST, TCP_SYN, type Packet, type TcpHeader } from '../../packet/types.js';
import { PortMatch, RuleIndex } from '../match.js';
import type { Verdict } from '../verdict.js';
import { compilePattern, NOT_FOUND, type CompiledPattern } from './pattern.js';
import { ByFamily } from '../../tables/by-family.js';
import { stamp32 } from '../../tables/ms32.js';
import { FlowTable, seqDiff } from './stream.js';

interface CompiledRule {
  rule: PayloadRule;
  direction: Direction;
  protocol: PayloadRule['protocol'];
  ports: PortMatch;
  pattern: CompiledPattern;
  /** The rule's depth, or Infinity: the whole flow. */
  depth: number;
  /** Bytes of the flow after which no match can start within the depth any more (depth + the pattern's carry). */
  until: number;
  verdict: Verdict;
  /** For the later packets of a flow this rule blocked: same action, no second ban. */
  blocked: Verdict;
}

export interface MatcherLimits {
  maxFlows: number;
  flowIdleMs: number;
}

const EMPTY = new Uint8Array(0);

const GAP: Verdict = {
  action: 'drop',
  by: { kind: 'flow', name: 'out-of-order' },
  reason: 'segment beyond a gap on an inspected flow: dropped until the sender fills the gap',
};

/** Every rule watching the flow is past its depth: accepted, and the kernel queues no more of it. */
export const DONE: Verdict = { action: 'accept', by: { kind: 'flow', name: 'inspected' }, reason: 'every payload rule on this flow is past its depth', done: true };

export class PayloadMatcher {
  readonly #rules: RuleIndex<CompiledRule>;
  readonly #flows: ByFamily<FlowTable>;

  /** `flows`: the previous matcher's streams, kept across a reload when the limits are the same. */
  constructor(policy: Policy, limits: MatcherLimits, flows?: ByFamily<FlowTable>) {
    const rules = policy.payloadRules.map(compileRule);
    this.#rules = new RuleIndex(rules);
    // Each flow keeps as many bytes as the widest rule needs.
    const stride = rules.reduce((n, c) => Math.max(n, c.pattern.carry), 0);
    this.#flows = flows && flows.v4.max === limits.maxFlows ? flows : new ByFamily((family) => new FlowTable(FLOW_WORDS[family], limits.maxFlows, limits.flowIdleMs, stride));
    for (const t of this.#flows.both) t.setStride(stride);
  }

  get flows(): ByFamily<FlowTable> {
    return this.#flows;
  }

  /**
   * null: nothing to say (accept as far as payload rules go). `established`: the kernel queued the
   * packet as part of an accepted flow.
   */
  check(p: Packet, direction: Direction, established: boolean, now: number): Verdict | null {
    if (this.#rules.size === 0 || p.l4 === null) return null;
    const rules = this.#rules.for(direction, p.family, p.protocol);
    // The widest window any rule watching this packet needs, and when the last of them is done; -1: none watches it.
    let carry = -1;
    let until = 0;
    for (const c of rules) {
      if (!c.ports.matches(p, direction)) continue;
      if (c.pattern.carry > carry) carry = c.pattern.carry;
      if (c.until > until) until = c.until;
    }
    if (carry < 0) return null;
    if (p.l4.kind === 'tcp') return this.#tcp(p, p.l4, rules, direction, carry, until, established, now);
    return p.payloadLength > 0 ? (search(rules, p, direction, EMPTY, 0, 0, p.buf, p.payloadOffset, p.payloadLength, 0)?.verdict ?? null) : null;
  }

  #tcp(p: Packet, l4: TcpHeader, rules: readonly CompiledRule[], direction: Direction, carry: number, until: number, established: boolean, now: number): Verdict | null {
    const key = flowKey(p, l4);
    const flows = this.#flows.of(key);
    const syn = (l4.flags & TCP_SYN) !== 0;
    const start = syn ? (l4.seq + 1) >>> 0 : l4.seq; // a SYN's data (TCP Fast Open) starts at ISN + 1
    let s = flows.get(key, now);
    if (s < 0 || (syn && !established)) {
      // A new connection (conntrack says so) starts the stream afresh, whatever came before.
      s = flows.open(key, start, now);
    } else {
      const blocked = flows.blocked(s);
      if (blocked !== null) {
        // A reset without data ends the flow and carries nothing to block: the kernel's own, when
        // it kills the connection for a reject rule, must get through.
        if ((l4.flags & TCP_RST) === 0 || p.payloadLength > 0) return blocked;
        flows.delete(s);
        return null;
      }
      // A SYN inside a flow we follow is discarded by the receiver (RFC 5961 challenge ACK);
      // letting it restart the state would let the sender wipe the window or unblock the flow.
      if (syn) return null;
    }
    const ahead = seqDiff(start, flows.nextSeq[s]!);
    // Beyond a gap: not `lastSeen`, so a flow stuck on bytes we never saw (queue bypass) expires
    // and restarts instead of being dropped for ever. A FIN or RST there ends nothing either.
    if (ahead > 0) return p.payloadLength > 0 ? GAP : null;
    flows.lastSeen[s] = stamp32(now);
    const skip = ahead < 0 ? Math.min(p.payloadLength, -ahead) : 0;
    const dataStart = p.payloadOffset + skip;
    const dataLength = p.payloadLength - skip;
    let verdict: Verdict | null = null;
    if (dataLength > 0) {
      const hit = search(rules, p, direction, flows.arena, flows.windowAt(s), flows.windowLength[s]!, p.buf, dataStart, dataLength, flows.seen[s]!);
      if (hit !== null && hit.verdict.action !== 'accept') {
        flows.block(s, hit.blocked);
        return hit.verdict;
      }
      // After a log-only match the window restarts, so the same bytes are not reported again
      // with the next segment.
      if (hit !== null) flows.windowLength[s] = 0;
      else flows.remember(s, p.buf, dataStart, dataLength, carry);
      verdict = hit?.verdict ?? null;
      flows.addSeen(s, dataLength);
      flows.nextSeq[s] = (flows.nextSeq[s]! + dataLength) >>> 0;
    }
    // Only an in-order FIN/RST ends the state: the receiver ignores others, and a sender must not
    // be able to wipe the window with one while the connection goes on.
    if (ahead === 0 && (l4.flags & (TCP_FIN | TCP_RST)) !== 0) {
      flows.delete(s);
      return verdict;
    }
    return verdict ?? (flows.seen[s]! >= until ? DONE : null);
  }

  sweep(now: number): void {
    for (const t of this.#flows.both) t.sweep(now);
  }
}

/**
 * The rule whose pattern occurs here, starting within its depth (`seen`: the flow's payload bytes
 * before `data`). A drop or reject wins over a log-only match, whatever the rules' order.
 */
function search(rules: readonly CompiledRule[], p: Packet, direction: Direction, tail: Uint8Array, tailStart: number, tailLength: number, data: Buffer, dataStart: number, dataLength: number, seen: number): CompiledRule | null {
  let logged: CompiledRule | null = null;
  for (const c of rules) {
    if (seen >= c.until || !c.ports.matches(p, direction)) continue;
    const at = c.pattern.find(tail, tailStart, tailLength, data, dataStart, dataLength);
    if (at === NOT_FOUND || seen + at >= c.depth) continue;
    if (c.verdict.action !== 'accept') return c;
    logged ??= c;
  }
  return logged;
}

function compileRule(rule: PayloadRule): CompiledRule {
  const pattern = compilePattern(rule.pattern);
  const action = rule.action === 'log' ? 'accept' : rule.action;
  const by = { kind: 'payload', name: rule.name } as const;
  // A ban names the packet's source; outbound, that is this server, so outbound rules never ban.
  const ban = rule.ban === false || rule.direction === 'outbound' ? undefined : { durationMs: rule.ban };
  // A TCP connection is killed at both ends (docs/policy.md, payloadRules[].action).
  const kill = action === 'reject' && rule.protocol === 'tcp' ? true : undefined;
  return {
    rule,
    direction: rule.direction,
    protocol: rule.protocol,
    ports: new PortMatch(rule),
    pattern,
    depth: rule.depth ?? Number.POSITIVE_INFINITY,
    until: (rule.depth ?? Number.POSITIVE_INFINITY) + pattern.carry,
    verdict: { action, by, reason: `payload matched rule ${rule.name}`, ban, log: rule.action === 'log', kill },
    blocked: { action, by, reason: `flow blocked earlier by payload rule ${rule.name}`, kill },
  };
}
