// Keys for per-stream state (the payload matcher's windows, kept for TCP only): the two ports,
// the source and the destination address (as tables/address-key.ts writes them), so 3 words for
// IPv4 and 9 for IPv6. Directional: the bytes a client sends and the bytes it receives are
// separate streams.
import { addressKeyAt, WORDS } from '../tables/address-key.js';
import { DST_OFFSET, SRC_OFFSET, type Packet, type TcpHeader } from './types.js';

export const FLOW_WORDS = { 4: 1 + 2 * WORDS[4], 6: 1 + 2 * WORDS[6] } as const;

const KEY = { 4: new Uint32Array(FLOW_WORDS[4]), 6: new Uint32Array(FLOW_WORDS[6]) };

/** The key of a TCP packet's stream: one shared array per family, valid until the next call. */
export function flowKey(p: Packet, tcp: TcpHeader): Uint32Array {
  const key = KEY[p.family];
  key[0] = (tcp.srcPort << 16) | tcp.dstPort;
  addressKeyAt(key, 1, p.buf, SRC_OFFSET[p.family], p.family);
  addressKeyAt(key, 1 + WORDS[p.family], p.buf, DST_OFFSET[p.family], p.family);
  return key;
}
