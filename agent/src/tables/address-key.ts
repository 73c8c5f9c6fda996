// Addresses as table keys: one word for IPv4, four for IPv6, so a key's length says its family
// and IPv4 state, most of it, costs a quarter of the key space (tables/by-family.ts keeps a table
// of each width). Read straight from a packet's bytes on the packet path; made from text only at
// the edges (control commands, the state file) and turned back into text only for them and logs.
import { addressBytes, ipv4At, ipv6At } from '../packet/address.js';

export const WORDS = { 4: 1, 6: 4 } as const;

/** Writes the key of the address at `off` in `buf` into `key` from `at`: 1 or 4 words. */
export function addressKeyAt(key: Uint32Array, at: number, buf: Buffer, off: number, family: 4 | 6): void {
  for (let i = 0; i < WORDS[family]; i++) key[at + i] = buf.readUInt32BE(off + 4 * i);
}

const TEXT_KEY = { 4: new Uint32Array(WORDS[4]), 6: new Uint32Array(WORDS[6]) };

/**
 * The key of an address given as text (already validated), in one shared array per family, valid
 * until the next call: a restore of a hundred thousand bans allocates no array per address.
 */
export function addressKey(address: string): Uint32Array {
  if (address.includes(':')) {
    addressKeyAt(TEXT_KEY[6], 0, addressBytes(address, 6), 0, 6);
    return TEXT_KEY[6];
  }
  let word = 0;
  let octet = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46) {
      word = (word << 8) | octet;
      octet = 0;
    } else octet = octet * 10 + c - 48;
  }
  TEXT_KEY[4][0] = (word << 8) | octet;
  return TEXT_KEY[4];
}

const text = Buffer.alloc(16);

/** The address of a key (all of `key`), as packets print it (see packet/address.ts). */
export function addressText(key: Uint32Array): string {
  for (let i = 0; i < key.length; i++) text.writeUInt32BE(key[i]!, 4 * i);
  return key.length === WORDS[4] ? ipv4At(text, 0) : ipv6At(text, 0);
}
