// Addresses as table keys: five words, the family, then the address (IPv4 in the first of four).
// Read straight from a packet's bytes on the packet path; made from text only at the edges
// (control commands, the state file) and turned back into text only for them and for logs.
import { addressBytes, ipv4At, ipv6At } from '../packet/address.js';

export const ADDRESS_WORDS = 5;

/** Writes the key of the address at `off` in `buf` into `key` from `at`. */
export function addressKeyAt(key: Uint32Array, at: number, buf: Buffer, off: number, family: 4 | 6): void {
  key[at] = family;
  if (family === 4) {
    key[at + 1] = buf.readUInt32BE(off);
    key[at + 2] = key[at + 3] = key[at + 4] = 0;
    return;
  }
  for (let i = 0; i < 4; i++) key[at + 1 + i] = buf.readUInt32BE(off + 4 * i);
}

/** The key of an address given as text (already validated). A new array each call: not for the packet path. */
export function addressKey(address: string): Uint32Array {
  const family = address.includes(':') ? 6 : 4;
  const key = new Uint32Array(ADDRESS_WORDS);
  addressKeyAt(key, 0, addressBytes(address, family), 0, family);
  return key;
}

const text = Buffer.alloc(16);

/** The address of a key, as packets print it (see packet/address.ts). */
export function addressText(key: Uint32Array, at = 0): string {
  const family = key[at];
  for (let i = 0; i < 4; i++) text.writeUInt32BE(key[at + 1 + i]!, 4 * i);
  return family === 4 ? ipv4At(text, 0) : ipv6At(text, 0);
}

export function familyOfKey(key: Uint32Array, at = 0): 4 | 6 {
  return key[at] === 4 ? 4 : 6;
}
