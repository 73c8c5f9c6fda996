// Settings a running agent cannot take over by a reload: the queue it is bound to and how the
// kernel was told to treat it, and the HTTP listener it opened at start. The daemon refuses such a
// reload (the service must restart); the NixOS module reads the same list (restart-fields.json)
// and restarts the unit when one changes.
import { isDeepStrictEqual } from 'node:util';
import fields from './restart-fields.json' with { type: 'json' };
import type { Policy } from './schema.js';

const RESTART_FIELDS = (['queue', 'http'] as const).flatMap((section) => fields[section].map((k) => ({ section, key: k as keyof Policy[typeof section] })));

/** The first field whose change needs a restart ("queue.num", "http.listen"), or null. */
export function restartNeeded(running: Policy, next: Policy): string | null {
  const f = RESTART_FIELDS.find(({ section, key }) => !isDeepStrictEqual(running[section][key], next[section][key]));
  return f === undefined ? null : `${f.section}.${f.key}`;
}
