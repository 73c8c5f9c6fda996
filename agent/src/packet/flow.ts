// Flow keys for per-flow state (the payload matcher's stream windows), as table keys of ten words:
// family and protocol, the two ports, the source and the destination address (tables/address-key.ts
// without the family word). Directional: the bytes a client sends and the bytes it receives are
// separate streams.
import { DST_OFFSET, SRC_OFFSET, type Packet } from './types.js';

export const FLOW_WORDS = 10;

/** Writes the packet's flow key into `key` from `at`. */
export function flowKeyAt(key: Uint32Array, at: number, p: Packet): void {
  const l4 = p.l4;
  const sport = l4 && 'srcPort' in l4 ? l4.srcPort : 0;
  const dport = l4 && 'dstPort' in l4 ? l4.dstPort : 0;
  key[at] = (p.family << 8) | p.protocol;
  key[at + 1] = ((sport << 16) | dport) >>> 0;
  addressWords(key, at + 2, p, SRC_OFFSET[p.family]);
  addressWords(key, at + 6, p, DST_OFFSET[p.family]);
}

function addressWords(key: Uint32Array, at: number, p: Packet, off: number): void {
  const words = p.family === 4 ? 1 : 4;
  for (let i = 0; i < 4; i++) key[at + i] = i < words ? p.buf.readUInt32BE(off + 4 * i) : 0;
}
