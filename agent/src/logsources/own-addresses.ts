// This host's own addresses (every interface's, in the agent's network namespace): a log line
// naming one of them never bans it. Read again at most every few seconds, since addresses change.
import { networkInterfaces } from 'node:os';
import { canonicalAddress } from '../packet/address.js';

export function ownAddresses(now: () => number = Date.now, refreshMs = 5000, read = networkInterfaces): (address: string) => boolean {
  let at = -Infinity;
  let own = new Set<string>();
  return (address) => {
    if (now() - at >= refreshMs) {
      own = new Set(Object.values(read()).flatMap((list) => (list ?? []).map((i) => canonicalAddress(i.address.split('%')[0]!))));
      at = now();
    }
    return own.has(address);
  };
}
