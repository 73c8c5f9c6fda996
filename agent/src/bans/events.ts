// The `ban` event, the same whoever made the ban (a detector, `vpsfw ban`, CrowdSec, a log source).
import type { AgentEvent } from '../events/bus.js';
import { formatDuration } from '../policy/units.js';
import type { BanEntry } from './store.js';

export function banEvent(e: BanEntry): AgentEvent {
  return {
    event: 'ban',
    level: 'warn',
    msg: `ban ${e.address}`,
    address: e.address,
    by: e.by,
    origin: e.origin,
    ...(e.scenario === undefined ? {} : { scenario: e.scenario }),
    reason: e.reason,
    duration: formatDuration(e.until - e.since),
    offense: e.offense,
    until: new Date(e.until).toISOString(),
  };
}
