// CIDR matching on the packet's own address bytes: compiled once per policy, so judging a packet
// parses no strings. IPv4 as one 32-bit word, IPv6 as four.
import type { Cidr } from '../policy/units.js';
import { addressBytes } from '../packet/address.js';

interface Net {
  words: Uint32Array;
  masks: Uint32Array;
}

export class CidrSet {
  readonly #v4: Net[] = [];
  readonly #v6: Net[] = [];
  /** True when the list was absent: matches every address. */
  readonly any: boolean;

  constructor(cidrs: readonly Cidr[] | undefined) {
    this.any = cidrs === undefined;
    for (const c of cidrs ?? []) (c.family === 4 ? this.#v4 : this.#v6).push(compile(c));
  }

  /** Matches the address at `offset` in `buf` (4 bytes for IPv4, 16 for IPv6). */
  matches(buf: Buffer, offset: number, family: 4 | 6): boolean {
    if (this.any) return true;
    const nets = family === 4 ? this.#v4 : this.#v6;
    const n = family === 4 ? 1 : 4;
    outer: for (const net of nets) {
      for (let i = 0; i < n; i++) {
        if (((buf.readUInt32BE(offset + 4 * i) & net.masks[i]!) >>> 0) !== net.words[i]) continue outer;
      }
      return true;
    }
    return false;
  }
}

function compile(c: Cidr): Net {
  const bytes = addressBytes(c.address, c.family);
  const n = c.family === 4 ? 1 : 4;
  const words = new Uint32Array(n);
  const masks = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const bits = Math.max(0, Math.min(32, c.prefix - 32 * i));
    masks[i] = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    words[i] = (bytes.readUInt32BE(4 * i) & masks[i]!) >>> 0;
  }
  return { words, masks };
}
