// A verdict is an outcome, not an exception: what to do with the packet, who decided it, and the
// side effects the daemon carries out (ban, log).

export type VerdictAction = 'accept' | 'drop' | 'reject';

/** Who decided: a static rule, a default, a detector, a rate limit, a payload rule, or the decoder. */
export type DecidedBy =
  | { readonly kind: 'rule'; readonly name: string }
  | { readonly kind: 'default'; readonly name: 'inbound' | 'outbound' }
  | { readonly kind: 'ratelimit'; readonly name: string }
  | { readonly kind: 'detector'; readonly name: 'synFlood' | 'synFloodTotal' | 'icmpFlood' | 'oversizedIcmp' | 'portScan' }
  | { readonly kind: 'payload'; readonly name: string }
  | { readonly kind: 'malformed'; readonly name: string }
  | { readonly kind: 'deny'; readonly name: 'denyNetworks' }
  | { readonly kind: 'flow'; readonly name: 'established' | 'out-of-order' | 'inspected' };

export interface Verdict {
  readonly action: VerdictAction;
  readonly by: DecidedBy;
  /** Human words for the log: "SYN rate 52/s over 20/s". */
  readonly reason: string;
  /** Ban the packet's source: a duration in ms, or null for the policy's default (escalated). */
  readonly ban?: { readonly durationMs: number | null } | undefined;
  /** Log even when accepted (payload rules with action "log"). */
  readonly log?: boolean | undefined;
  /** Accepted, and the kernel need not queue this flow in this direction again (payload depths reached). */
  readonly done?: boolean | undefined;
  /** Reject a TCP segment by killing its connection: a reset to both ends, the segment dropped. */
  readonly kill?: boolean | undefined;
}

export function describeBy(by: DecidedBy): string {
  return `${by.kind}:${by.name}`;
}
