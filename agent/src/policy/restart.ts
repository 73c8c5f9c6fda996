// Settings a running agent cannot take over by a reload: the queue it is bound to and how the
// kernel was told to treat it. The daemon refuses such a reload (the service must restart); the
// NixOS module reads the same list (restart-fields.json) and restarts the unit when one changes.
import fields from './restart-fields.json' with { type: 'json' };
import type { Policy } from './schema.js';

const RESTART_QUEUE_FIELDS = fields.queue as ReadonlyArray<keyof Policy['queue']>;

/** The first field whose change needs a restart ("queue.num"), or null. */
export function restartNeeded(running: Policy, next: Policy): string | null {
  const f = RESTART_QUEUE_FIELDS.find((k) => running.queue[k] !== next.queue[k]);
  return f === undefined ? null : `queue.${f}`;
}
