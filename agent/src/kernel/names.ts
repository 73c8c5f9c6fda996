// The names the agent owns in the kernel. Everything it adds is under these, so removing it is
// exact and never touches rules it did not write.

export type Family = 4 | 6;
export type Table = 'raw' | 'mangle' | 'filter';

export const CHAINS = {
  /** raw PREROUTING: banned and denied sources, dropped before connection tracking. */
  raw: 'VPSFW-RAW',
  /** mangle INPUT: what vpsfw judges of the traffic coming in. */
  input: 'VPSFW-INPUT',
  /** The fast path: VPSFW-INPUT sends established and related packets here. */
  established: 'VPSFW-ESTABLISHED',
  /** New packets the static rules accept: what a judge needs goes to the queue, the rest goes on. */
  judge: 'VPSFW-JUDGE',
  /** The per-source bound, then NFQUEUE. */
  queue: 'VPSFW-QUEUE',
  /** New packets the static rules refuse: shown to the detectors (NFLOG), then dropped or marked for rejection. */
  refuseDrop: 'VPSFW-REFUSE-DROP',
  refuseReject: 'VPSFW-REFUSE-REJECT',
  /** What the detectors need of refused packets, within a per-source bound: NFLOG copies of their headers. */
  observe: 'VPSFW-OBSERVE',
  /** A packet the agent accepted, back from the queue: its mark cleared, it goes on. */
  pass: 'VPSFW-PASS',
  /** The same, and its flow marked as inspected enough (connmark) so the kernel queues no more of it. */
  doneIn: 'VPSFW-DONE-IN',
  /** mangle OUTPUT: what vpsfw judges of this server's own traffic (empty unless the policy judges outbound). */
  output: 'VPSFW-OUTPUT',
  outEstablished: 'VPSFW-OUT-ESTABLISHED',
  outJudge: 'VPSFW-OUT-JUDGE',
  outReject: 'VPSFW-OUT-REJECT',
  doneOut: 'VPSFW-DONE-OUT',
  /** filter INPUT and OUTPUT: packets marked for rejection get their reset or ICMP error. */
  reject: 'VPSFW-REJECT',
} as const;

/** Our chains in each table. */
export const TABLE_CHAINS: Record<Table, readonly string[]> = {
  raw: [CHAINS.raw],
  mangle: [
    CHAINS.input,
    CHAINS.established,
    CHAINS.judge,
    CHAINS.queue,
    CHAINS.refuseDrop,
    CHAINS.refuseReject,
    CHAINS.observe,
    CHAINS.pass,
    CHAINS.doneIn,
    CHAINS.output,
    CHAINS.outEstablished,
    CHAINS.outJudge,
    CHAINS.outReject,
    CHAINS.doneOut,
  ],
  filter: [CHAINS.reject],
};

/**
 * The built-in chains ours are hooked into, one jump each at the top: raw and mangle run before
 * every filter-table firewall (ufw, NixOS' nixos-fw, firewalld, whichever backend), so vpsfw sees
 * each packet first and whatever it lets by still meets them.
 */
export const HOOKS = [
  { table: 'raw', builtin: 'PREROUTING', chain: CHAINS.raw },
  { table: 'mangle', builtin: 'INPUT', chain: CHAINS.input },
  { table: 'mangle', builtin: 'OUTPUT', chain: CHAINS.output },
  { table: 'filter', builtin: 'INPUT', chain: CHAINS.reject },
  { table: 'filter', builtin: 'OUTPUT', chain: CHAINS.reject },
] as const satisfies ReadonlyArray<{ table: Table; builtin: string; chain: string }>;

/** Chains and jumps of the first layout (everything in the filter table), removed when found: an upgrade leaves no trace of it. */
export const LEGACY_FILTER_CHAINS = ['VPSFW-INPUT', 'VPSFW-ESTABLISHED', 'VPSFW-OUTPUT'] as const;
export const LEGACY_HOOKS = [
  { table: 'filter', builtin: 'INPUT', chain: 'VPSFW-INPUT' },
  { table: 'filter', builtin: 'OUTPUT', chain: 'VPSFW-OUTPUT' },
] as const;

export function setNames(family: Family) {
  return {
    /** hash:ip with per-entry timeout: bans. */
    ban: `vpsfw-ban${family}`,
    /** hash:net with per-entry timeout: bans of whole networks (CrowdSec's Range decisions, say). */
    banNet: `vpsfw-bannet${family}`,
    /** hash:net: denied networks. */
    deny: `vpsfw-deny${family}`,
    /** hash:net: never judged, never banned. */
    allow: `vpsfw-allow${family}`,
  } as const;
}

/**
 * The packet marks vpsfw uses, all under MARK_MASK (bits no other common tool uses: Tailscale
 * has 0x00ff0000, kube-proxy 0x0000c000, Cilium 0x00000f00). A packet vpsfw lets by leaves with
 * those bits as it came.
 * - REJECT: the agent's reject (NF_REPEAT with it) or a static reject in mangle; filter's
 *   VPSFW-REJECT has the kernel build the TCP reset or ICMP unreachable, so the agent needs no raw socket for it.
 * - ESTABLISHED: set by the kernel on established packets it queues for payload rules.
 * - PASS: the agent's accept (NF_REPEAT with it): the packet goes through the hook again, our first
 *   rule clears the mark and lets it go on, so the rules after our jump still judge it.
 * - DONE: as PASS, and the flow is inspected enough in that direction (connmark DONE_IN/DONE_OUT).
 * - OWN: the resets the agent sends itself (a raw socket's SO_MARK), which our chains let by.
 */
export const MARK_MASK = 0x0f000000;
export const REJECT_MARK = 0x01000000;
export const ESTABLISHED_MARK = 0x02000000;
export const PASS_MARK = 0x03000000;
export const DONE_MARK = 0x04000000;
export const OWN_MARK = 0x05000000;
/** Connmark bits (each its own mask): payload inspection of this flow is over, inbound / outbound. */
export const CONNMARK_DONE_IN = 0x10000000;
export const CONNMARK_DONE_OUT = 0x20000000;
