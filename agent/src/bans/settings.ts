// The ban store's settings, from the policy: the one place that reads `bans` for it.
import type { Policy } from '../policy/schema.js';
import type { BanSettings } from './store.js';

export function banSettings(p: Policy): BanSettings {
  return {
    duration: p.bans.duration,
    escalation: p.bans.escalation,
    maxEntries: p.bans.maxEntries,
    allowlist: p.bans.allowlist,
  };
}
