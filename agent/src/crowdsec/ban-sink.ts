// What the CrowdSec modules need of the ban store, and no more: the one kind of request every
// source of bans hands it (wave spec, "Bans: one kind of request"). The daemon passes the store
// itself once it speaks BanRequest; unit tests pass a fake.

export type BanOrigin = 'agent' | 'control' | 'crowdsec' | 'log' | 'kernel';

export interface BanRequest {
  /** An address, or a network in CIDR notation (CrowdSec's `Range` decisions). */
  target: string;
  /** null: the policy's bans.duration, escalated for repeat offenders. */
  durationMs: number | null;
  reason: string;
  /** The decider: "detector:synFlood", "control", "crowdsec", ... */
  by: string;
  origin: BanOrigin;
  /** CrowdSec's scenario, e.g. "crowdsecurity/ssh-bf". */
  scenario?: string | undefined;
  /** Default true. CrowdSec's decisions carry their own duration: false. */
  escalate?: boolean | undefined;
}

/** A ban as the store reports it; what the reporter and the logs read of it. */
export interface SinkEntry {
  /** The banned address or network. */
  address: string;
  since: number;
  until: number;
  reason: string;
  by: string;
  origin?: BanOrigin | undefined;
  scenario?: string | undefined;
  offense?: number | undefined;
}

export type BanResult =
  | { kind: 'banned'; entry: SinkEntry }
  | { kind: 'already'; entry: SinkEntry }
  | { kind: 'allowlisted' }
  | { kind: 'refused'; reason: string };

export interface BanSink {
  /**
   * Bans, or says why not. A request without escalation for a target banned already never shortens
   * that ban: it lengthens it ('banned') or leaves it ('already').
   */
  ban(req: BanRequest): BanResult;
  /** Ends the ban of `target` only if one of that origin is running: a decision deleted in CrowdSec never lifts a ban the agent made. */
  unban(target: string, only: { origin: BanOrigin }): Promise<boolean>;
  /** Resolves when every ban made so far is in the kernel: a bulk load goes at the kernel's pace. */
  flushed(): Promise<void>;
}
