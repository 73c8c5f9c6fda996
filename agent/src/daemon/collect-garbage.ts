// A full collection after each accepted reload. The previous policy's engine tables and the
// reload's texts (the rendered rules, what iptables-save and the policy loader printed) are garbage
// at once, and most outlived the 1 MiB young generation, so they sit in the old generation until it
// doubles (--heap-growing-percent=100): the agent's memory then depends on where in that cycle one
// reads it, up to 7 MiB apart at the sizing point. Reloads are rare and the heap small (a full
// collection of it takes a few ms, while the packets wait in the queue), so the agent pays that
// once per reload and holds what it needs, not what the last reloads left.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// V8 makes `gc` a global of the contexts made after the flag: one of those hands it out. The flag
// given at run time, so the units' command line stays what node-options.json says.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function collectGarbage(): void {
  gc();
}
