// What a ban names: an address, or a network (a range ban), as the key words of its first address
// (tables/address-key.ts) and a prefix length. And the addresses never banned, whoever asks: the
// unspecified, broadcast and multicast addresses are never the source of a real connection (a
// packet that claims one is spoofed or broken, and the kernel drops it before the queue), and
// ipset refuses the null ones, which stopped a whole batch of bans at them.
import type { Family } from '../kernel/names.js';
import { parseCidr } from '../policy/units.js';
import { addressKey, addressText, WORDS } from '../tables/address-key.js';

export interface Target {
  family: Family;
  /** The first address, its host bits cleared: WORDS[family] words, a copy. */
  words: Uint32Array;
  /** 32 (IPv4) or 128 (IPv6) for one address. */
  prefix: number;
}

export const fullPrefix = (family: Family): number => 32 * WORDS[family];

export const isAddress = (t: Target): boolean => t.prefix === fullPrefix(t.family);

/** An address or a CIDR network ("192.0.2.0/24"; host bits are cleared, a /32 is an address), or null. */
export function parseTarget(text: string): Target | null {
  const c = parseCidr(text);
  if (c === null) return null;
  const words = addressKey(c.address).slice();
  for (let i = 0; i < words.length; i++) words[i] = (words[i]! & wordMask(c.prefix, i)) >>> 0;
  return { family: c.family, words, prefix: c.prefix };
}

/** The canonical text: the address as packets print it, with `/prefix` for a network. */
export function targetText(t: Target): string {
  return isAddress(t) ? addressText(t.words) : `${addressText(t.words)}/${t.prefix}`;
}

/** True when `outer` holds all of `inner`. */
export function contains(outer: Target, inner: Target): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false;
  for (let i = 0; i < outer.words.length; i++) if (((inner.words[i]! & wordMask(outer.prefix, i)) >>> 0) !== outer.words[i]) return false;
  return true;
}

/** The bits of word `i` inside a prefix of `prefix` bits. */
function wordMask(prefix: number, i: number): number {
  const bits = Math.min(32, Math.max(0, prefix - 32 * i));
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

const NEVER = [
  { net: '0.0.0.0', one: 'the unspecified address', many: 'the unspecified address 0.0.0.0' },
  { net: '255.255.255.255', one: 'the broadcast address', many: 'the broadcast address 255.255.255.255' },
  { net: '224.0.0.0/4', one: 'a multicast address (224.0.0.0/4)', many: 'multicast addresses (224.0.0.0/4)' },
  { net: '::', one: 'the unspecified address', many: 'the unspecified address ::' },
  { net: 'ff00::/8', one: 'a multicast address (ff00::/8)', many: 'multicast addresses (ff00::/8)' },
].map((n) => ({ ...n, net: parseTarget(n.net)! }));

/** Why the target must never be banned (naming it), or null. */
export function neverBanned(t: Target): string | null {
  for (const n of NEVER) {
    if (contains(n.net, t)) return `${targetText(t)} is ${n.one}, never a real source: not banned`;
    if (contains(t, n.net)) return `${targetText(t)} contains ${n.many}, never a real source: not banned`;
  }
  return null;
}
