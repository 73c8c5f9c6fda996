// A CrowdSec decision, as the LAPI's stream gives it, turned into what the agent enforces. Pure.
// Enforced: type `ban` with scope `Ip` or `Range`, IPv4 or IPv6 (scopes compared without case,
// as the LAPI does). Everything else (captcha, throttle, a username or country scope) is not the
// firewall's to carry out and is ignored, with the kind named so it can be logged once.
import { isIP } from 'node:net';
import { parseTarget, targetText } from '../bans/target.js';
import { canonicalAddress } from '../packet/address.js';

/** A decision as the stream carries it (`models.Decision`); fields unchecked until read. */
export interface LapiDecision {
  id?: unknown;
  origin?: unknown;
  type?: unknown;
  scope?: unknown;
  value?: unknown;
  duration?: unknown;
  scenario?: unknown;
}

export type Mapped =
  | {
      kind: 'ban';
      /** An address, or a network in CIDR notation (host bits cleared, as the kernel set holds it). */
      target: string;
      /** What is left of the decision, ms (0 or less: it has run out). */
      remainingMs: number;
      scenario: string;
    }
  | { kind: 'ignored'; what: string; value: string };

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const GO_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Go's `time.Duration.String()`, the LAPI's duration ("3h59m59.3s", "-13.5ms", "0s"), in ms; null
 * for anything else.
 */
export function parseGoDuration(text: string): number | null {
  const sign = text[0] === '-' ? -1 : 1;
  let i = text[0] === '-' || text[0] === '+' ? 1 : 0;
  if (text.slice(i) === '0') return 0;
  let ms = 0;
  let parts = 0;
  for (GO_PART.lastIndex = i; i < text.length; i = GO_PART.lastIndex, parts++) {
    const m = GO_PART.exec(text);
    if (m === null) return null;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return parts > 0 ? sign * ms : null;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** Dotted IPv4 without leading zeros: already the form packets print, nothing to make. */
const CANONICAL_V4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * The target a decision names, as the ban store prints it (a range as its network, host bits
 * cleared; a range of one address as that address); null if it names none.
 */
export function targetOf(scope: string, value: string): string | null {
  if (scope === 'ip') return CANONICAL_V4.test(value) ? value : isIP(value) !== 0 ? canonicalAddress(value) : null;
  const t = parseTarget(value);
  return t === null ? null : targetText(t);
}

export function mapDecision(d: LapiDecision): Mapped {
  const type = str(d.type);
  const scope = str(d.scope).toLowerCase();
  const value = str(d.value);
  if (type.toLowerCase() !== 'ban') return { kind: 'ignored', what: `type ${JSON.stringify(type)}`, value };
  if (scope !== 'ip' && scope !== 'range') return { kind: 'ignored', what: `scope ${JSON.stringify(str(d.scope))}`, value };
  const target = targetOf(scope, value);
  if (target === null) return { kind: 'ignored', what: `${scope === 'ip' ? 'Ip' : 'Range'} value that is not one`, value };
  const remainingMs = parseGoDuration(str(d.duration));
  if (remainingMs === null) return { kind: 'ignored', what: 'duration that is not a Go duration', value: `${value} ${JSON.stringify(str(d.duration))}` };
  return { kind: 'ban', target, remainingMs, scenario: str(d.scenario) || str(d.origin) || 'crowdsec' };
}
