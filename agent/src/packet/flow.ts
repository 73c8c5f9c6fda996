// Flow keys for per-flow state (the payload matcher's stream windows). Directional: the bytes a
// client sends and the bytes it receives are separate streams.
import type { Packet } from './types.js';

export function flowKey(p: Packet): string {
  const l4 = p.l4;
  const sport = l4 && 'srcPort' in l4 ? l4.srcPort : 0;
  const dport = l4 && 'dstPort' in l4 ? l4.dstPort : 0;
  return `${p.protocol} ${p.src} ${sport} ${p.dst} ${dport}`;
}
