// The allowlist, consulted when a ban is about to be made, not per packet (the kernel lets
// allowlisted sources by before they are ever queued). It wins over every ban: a target inside it
// is not banned, and neither is a network that holds part of it (banning the rest of such a
// network would need a ban set with exceptions; refusing says plainly what happened).
import type { Cidr } from '../policy/units.js';
import { contains, parseTarget, targetText, type Target } from './target.js';

export type AllowlistMatch = { kind: 'within' } | { kind: 'overlaps'; network: string };

export function allowlistMatcher(cidrs: readonly Cidr[]): (t: Target) => AllowlistMatch | null {
  const nets = cidrs.map((c) => parseTarget(`${c.address}/${c.prefix}`)!);
  return (t) => {
    for (const n of nets) {
      if (contains(n, t)) return { kind: 'within' };
      if (contains(t, n)) return { kind: 'overlaps', network: targetText(n) };
    }
    return null;
  };
}
