// The small interface between the kernel queue and the daemon: packets in, one verdict each out.
// The engine never sees it; unit tests use a fake, the daemon the NFQUEUE adapter.

export interface QueuedPacket {
  /** The kernel's packet id, echoed with the verdict. */
  readonly id: number;
  /** The IP packet (v4 or v6), starting at the IP header. */
  readonly payload: Buffer;
  readonly direction: 'inbound' | 'outbound';
  /** Queued as part of an accepted flow (payload-rule traffic): the kernel set ESTABLISHED_MARK. */
  readonly established: boolean;
}

/** `reject` is carried out by the kernel: NF_REPEAT with REJECT_MARK (see kernel/names.ts). */
export type QueueVerdict = 'accept' | 'drop' | 'reject';

export interface QueueOptions {
  num: number;
  maxLen: number;
  failOpen: boolean;
}

export interface QueueStats {
  received: number;
  /** Packets the kernel dropped or let through without us (queue full): 0 when the backend cannot tell. */
  kernelDrops: number;
  /**
   * Packets queued to us that we never judged (queue full, socket overrun), or null where that is
   * not counted: a fail-open queue's kernel lets those through and counts none of them.
   */
  unjudged: number | null;
}

export interface PacketQueue {
  /** Starts delivering packets; the handler returns each verdict synchronously. */
  start(handler: (p: QueuedPacket) => QueueVerdict): void;
  close(): void;
  stats(): QueueStats;
}
