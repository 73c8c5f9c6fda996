// Interface names by index, as the kernel numbers them, for rules that name interfaces: read
// from /sys/class/net (the network namespace's own, as `ip netns exec` and systemd mount it) and
// read again when an index is not known (an interface made since, a WireGuard tunnel brought up),
// at most once a second so a packet with a strange index cannot make us read it for each packet.
import { readdirSync, readFileSync } from 'node:fs';
import type { InterfaceNames } from '../engine/match.js';

const REREAD_MS = 1000;

export function systemInterfaceNames(now: () => number = Date.now, dir = '/sys/class/net'): InterfaceNames {
  let names = new Map<number, string>();
  let readAt = -Infinity;
  const read = () => {
    const next = new Map<number, string>();
    try {
      for (const name of readdirSync(dir)) {
        const index = Number(readFileSync(`${dir}/${name}/ifindex`, 'utf8'));
        if (Number.isInteger(index)) next.set(index, name);
      }
    } catch {
      return; // an interface that went away while we read: the next miss reads again
    } finally {
      readAt = now();
    }
    names = next;
  };
  return (index) => {
    if (index <= 0) return undefined;
    const name = names.get(index);
    if (name !== undefined || now() - readAt < REREAD_MS) return name;
    read();
    return names.get(index);
  };
}
