// Parsers for the policy's small value types: durations, CIDRs, port ranges. Pure; each returns
// null for bad input so the schema can name the field and the value.
import { isIPv4, isIPv6 } from 'node:net';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h|d|w)$/;

/** "90s", "10m", "1h", "7d" → milliseconds; a bare number is not accepted (its unit would be a guess). */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const ms = n * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return n > 0 && Number.isSafeInteger(ms) ? ms : null;
}

export function formatDuration(ms: number): string {
  for (const [u, f] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % f === 0) return `${ms / f}${u}`;
  }
  return `${ms}ms`;
}

export interface Cidr {
  family: 4 | 6;
  address: string;
  prefix: number;
}

/** "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0;
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  if (slash < 0) return { family, address, prefix: max };
  const p = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p)) return null;
  const prefix = Number(p);
  return prefix <= max ? { family, address, prefix } : null;
}

export function formatCidr(c: Cidr): string {
  return `${c.address}/${c.prefix}`;
}

export interface PortRange {
  from: number;
  to: number;
}

/** 22 or "8000-8100". */
export function parsePortSpec(spec: number | string): PortRange | null | 'reversed' {
  const valid = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (typeof spec === 'number') return valid(spec) ? { from: spec, to: spec } : null;
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(spec);
  if (!m) return null;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (!valid(from) || !valid(to)) return null;
  return from <= to ? { from, to } : 'reversed';
}
