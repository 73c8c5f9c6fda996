// What the kernel says of a queue: /proc/net/netfilter/nfnetlink_queue, whose queue_dropped and
// user_dropped columns count the packets that never reached us (queue full, socket overrun).
import { readFileSync } from 'node:fs';

export function readKernelDrops(num: number, text?: string): number {
  let body = text;
  if (body === undefined) {
    try {
      body = readFileSync('/proc/net/netfilter/nfnetlink_queue', 'utf8');
    } catch {
      return 0;
    }
  }
  for (const line of body.split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f[0] === num && f.length >= 7) return (f[5] ?? 0) + (f[6] ?? 0);
  }
  return 0;
}
