// The allowlist as Node's BlockList: consulted when a ban is about to be made, not per packet
// (the kernel accepts allowlisted sources before they are ever queued).
import { BlockList } from 'node:net';
import type { Cidr } from '../policy/units.js';

export function allowlistMatcher(cidrs: readonly Cidr[]): (address: string) => boolean {
  const list = new BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family === 4 ? 'ipv4' : 'ipv6');
  return (address) => list.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
}
