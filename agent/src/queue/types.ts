// The small interfaces between the kernel and the daemon: queued packets in, one verdict each
// out (PacketQueue), and copies of logged packets in, no verdict (PacketLog). The engine never
// sees them; unit tests use fakes, the daemon the addon's adapters.

export interface QueuedPacket {
  /** The kernel's packet id, echoed with the verdict. */
  readonly id: number;
  /** The IP packet (v4 or v6), starting at the IP header. */
  readonly payload: Buffer;
  readonly direction: 'inbound' | 'outbound';
  /** Queued as part of an accepted flow (payload-rule traffic): the kernel set ESTABLISHED_MARK. */
  readonly established: boolean;
  /** The interface index: the one the packet came in on (inbound), or goes out on (outbound). */
  readonly ifindex: number;
}

/**
 * Each is NF_DROP or NF_REPEAT with a mark (kernel/names.ts): `accept` PASS_MARK (on to the rules
 * after ours), `reject` REJECT_MARK (the kernel answers with a reset or unreachable), `done`
 * DONE_MARK (accept, and stop queueing this flow in this direction).
 */
export type QueueVerdict = 'accept' | 'drop' | 'reject' | 'done';

export interface QueueOptions {
  num: number;
  maxLen: number;
  failOpen: boolean;
}

/** The kernel's own counters for a queue (/proc/self/net/netfilter/nfnetlink_queue). */
export interface KernelQueueStats {
  /** Packets waiting for a verdict now. */
  inQueue: number;
  /** Packets that found the queue full: dropped, or accepted unjudged when fail-open. */
  queueDropped: number;
  /** Packets whose message the socket could not take (its buffer full): dropped, or accepted when fail-open. */
  userDropped: number;
  /** The last packet id given out: how many packets the queue has taken since it was bound. */
  idSequence: number;
}

export interface QueueStats {
  /** Packets handed to the handler. */
  received: number;
  /** null when the kernel does not list the queue (not bound, or the table is unreadable). */
  kernel: KernelQueueStats | null;
}

export interface PacketQueue {
  /** Starts delivering packets; the handler returns each verdict synchronously. */
  start(handler: (p: QueuedPacket) => QueueVerdict): void;
  close(): void;
  stats(): QueueStats;
}

export interface LoggedPacket {
  /** The logged copy of the IP packet, from its header on: the rule's --nflog-size may cut it short. */
  readonly payload: Buffer;
  readonly direction: 'inbound' | 'outbound';
  /** As QueuedPacket's. */
  readonly ifindex: number;
}

export interface LogOptions {
  /** The NFLOG group (`-j NFLOG --nflog-group N`), 0..65535. */
  group: number;
}

export interface LogStats {
  /** Packets handed to the handler. */
  received: number;
}

export interface PacketLog {
  /** Starts delivering copies of logged packets; the packets themselves never wait for us. */
  start(handler: (p: LoggedPacket) => void): void;
  close(): void;
  stats(): LogStats;
}
