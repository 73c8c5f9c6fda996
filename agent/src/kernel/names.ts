// The names the agent owns in the kernel. Everything it adds is under these, so removing it is
// exact and never touches rules it did not write.

export type Family = 4 | 6;

export const CHAINS = {
  input: 'VPSFW-INPUT',
  output: 'VPSFW-OUTPUT',
  /** The fast path: VPSFW-INPUT sends established and related packets here, hooked by nothing else. */
  established: 'VPSFW-ESTABLISHED',
} as const;

/** The built-in chain each of ours is hooked into (one jump each, at the top). */
export const HOOKS = [
  { builtin: 'INPUT', chain: CHAINS.input },
  { builtin: 'OUTPUT', chain: CHAINS.output },
] as const;

export function setNames(family: Family) {
  return {
    /** hash:ip with per-entry timeout: bans. */
    ban: `vpsfw-ban${family}`,
    banNet: `vpsfw-bannet${family}`,
    /** hash:net: denied networks. */
    deny: `vpsfw-deny${family}`,
    /** hash:net: never judged, never banned. */
    allow: `vpsfw-allow${family}`,
  } as const;
}

/**
 * A reject verdict is given as NF_REPEAT with this mark: the packet goes through the chain again,
 * where a rule matching the mark REJECTs it. The kernel then builds the TCP RST or ICMP
 * unreachable itself, so the agent needs no raw socket.
 */
export const REJECT_MARK = 0x00560000;
export const MARK_MASK = 0x00ff0000;

/** Set by the kernel on established packets it queues for payload rules: the engine sees they belong to an accepted flow. */
export const ESTABLISHED_MARK = 0x00570000;
