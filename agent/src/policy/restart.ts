// Settings a running agent cannot take over by a reload: the queue it is bound to and how the
// kernel was told to treat it. The daemon refuses such a reload (the service must restart) and
// the NixOS module restarts the unit when one of them changes (nix/module.nix).
import type { Policy } from './schema.js';

const RESTART_QUEUE_FIELDS = ['num', 'maxLen', 'failMode', 'logGroup'] as const satisfies ReadonlyArray<keyof Policy['queue']>;

/** The first field whose change needs a restart ("queue.num"), or null. */
export function restartNeeded(running: Policy, next: Policy): string | null {
  const f = RESTART_QUEUE_FIELDS.find((k) => running.queue[k] !== next.queue[k]);
  return f === undefined ? null : `queue.${f}`;
}
