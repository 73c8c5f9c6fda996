// Networks as CrowdSec names them: "192.0.2.77/24" is the network 192.0.2.0/24, the form the
// kernel's hash:net set holds and lists, so a decision and its deletion name the same entry.
import { addressBytes, ipv4At, ipv6At } from '../packet/address.js';
import type { Cidr } from '../policy/units.js';

function masked(c: Cidr, prefix: number): Buffer {
  const b = addressBytes(c.address, c.family);
  for (let i = 0; i < b.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - 8 * i));
    b[i]! &= (0xff << (8 - bits)) & 0xff;
  }
  return b;
}

/** The network of a CIDR, host bits cleared, as "address/prefix". */
export function networkOf(c: Cidr): string {
  const b = masked(c, c.prefix);
  return `${c.family === 4 ? ipv4At(b, 0) : ipv6At(b, 0)}/${c.prefix}`;
}

/** True when the two networks share an address: one holds the other. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const p = Math.min(a.prefix, b.prefix);
  return masked(a, p).equals(masked(b, p));
}
