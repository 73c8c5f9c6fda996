// A ban the agent made, as the alert CrowdSec's own agents send (POST /v1/alerts): the scenario
// (`vpsfw/synFlood`, `vpsfw/payload:<rule>`, ...), the source, the count and the time window, and
// the decision itself with the ban's duration, so the LAPI stores it as given and every bouncer of
// the fleet enforces it. Pure.
import type { BanEntry } from '../bans/store.js';
import type { LapiAlert } from './lapi-client.js';

/** What an alert is made of: the ban as its `ban` event tells it. */
export type ReportedBan = Pick<BanEntry, 'address' | 'since' | 'until' | 'reason' | 'by' | 'origin'>;

/**
 * The origin of the decisions vpsfw sends: that of CrowdSec's own agents, which is what a machine
 * is (and `cscli alerts list` shows only alerts of origin crowdsec or cscli).
 */
export const DECISION_ORIGIN = 'crowdsec';

/** The scenarios a vpsfw machine has, as its login declares them (more follow its rule names). */
export const SCENARIOS = ['vpsfw/synFlood', 'vpsfw/icmpFlood', 'vpsfw/oversizedIcmp', 'vpsfw/portScan', 'vpsfw/manual'];

/** "detector:synFlood" → "vpsfw/synFlood"; "payload:x" → "vpsfw/payload:x"; "control" → "vpsfw/manual". */
export function scenarioOf(by: string): string {
  if (by === 'control') return 'vpsfw/manual';
  return `vpsfw/${by.startsWith('detector:') ? by.slice('detector:'.length) : by}`;
}

/** CrowdSec's time format (Go's time.RFC3339): UTC, whole seconds. */
export const rfc3339 = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export interface AlertDetails {
  /** The events that led to the ban (packets, log lines); 1 when the decider does not say. */
  events?: number | undefined;
  /** When the first of them was seen; the ban's start when the decider does not say. */
  firstSeen?: number | undefined;
}

export function alertOf(ban: ReportedBan, version: string, details: AlertDetails = {}): LapiAlert {
  const scenario = scenarioOf(ban.by);
  const range = ban.address.includes('/');
  const scope = range ? 'Range' : 'Ip';
  const events = Math.max(1, Math.round(details.events ?? 1));
  const start = rfc3339(details.firstSeen ?? ban.since);
  // The LAPI ends the decision at stop_at + duration: stop_at is the ban's start.
  const stop = rfc3339(ban.since);
  // Rounded down, as stop_at is: the decision never outlasts the ban, so its echo from the stream
  // never lengthens the ban it came from.
  const seconds = Math.max(1, Math.floor((ban.until - ban.since) / 1000));
  return {
    scenario,
    scenario_hash: '',
    scenario_version: version,
    message: `${scope} ${ban.address} performed '${scenario}' (${events} events over ${Math.max(0, Math.round((ban.since - (details.firstSeen ?? ban.since)) / 1000))}s) at ${stop}: ${ban.reason}`,
    events_count: events,
    start_at: start,
    stop_at: stop,
    capacity: 0,
    leakspeed: '0',
    simulated: false,
    remediation: true,
    events: [{ timestamp: stop, meta: [{ key: 'source_ip', value: ban.address }, { key: 'service', value: 'vpsfw' }, { key: 'reason', value: ban.reason }] }],
    source: range ? { scope, value: ban.address, range: ban.address } : { scope, value: ban.address, ip: ban.address },
    decisions: [{ origin: DECISION_ORIGIN, type: 'ban', scope, value: ban.address, duration: `${seconds}s`, scenario }],
  };
}
