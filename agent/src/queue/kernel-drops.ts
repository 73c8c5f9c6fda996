// What the kernel says of a queue: its line in nfnetlink_queue, whose queue_dropped and
// user_dropped columns count the packets that never reached us (queue full, socket overrun).
// Read under /proc/self/net: the network namespace of the agent itself, whatever /proc/net shows.
import { readFileSync } from 'node:fs';
import type { KernelQueueStats } from './types.js';

export const QUEUE_TABLE = '/proc/self/net/netfilter/nfnetlink_queue';

/**
 * The queue's line of the table, or null if it has none (not bound). The kernel prints, per queue:
 * number, peer port id, packets waiting, copy mode, copy range, queue_dropped, user_dropped,
 * id_sequence, and a constant 1.
 */
export function parseQueueStats(text: string, num: number): KernelQueueStats | null {
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || Number(f[0]) !== num) continue;
    const n = f.slice(0, 8).map(Number);
    if (n.some((x) => !Number.isInteger(x) || x < 0)) continue;
    return { inQueue: n[2]!, queueDropped: n[5]!, userDropped: n[6]!, idSequence: n[7]! };
  }
  return null;
}

/** null as well when the table cannot be read (nfnetlink_queue not loaded: nothing was ever bound). */
export function readQueueStats(num: number, path = QUEUE_TABLE): KernelQueueStats | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  return parseQueueStats(text, num);
}
