// What learning sees, read from three places: conntrack's events (a flow the kernel let in), the
// agent's own JSON log lines (what it dropped, rejected or would have), and `ss` (what listens).
// Pure parsers: text in, observations out; anything else is null.
import { isIP } from 'node:net';
import { canonicalAddress } from '../packet/address.js';

export type L4 = 'tcp' | 'udp';

/** One new inbound connection (or the first datagram of a UDP flow) to a local port. */
export interface Observation {
  at: number;
  family: 4 | 6;
  protocol: L4;
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

export interface Listener {
  protocol: L4;
  /** The local address it is bound to: "0.0.0.0", "::" (any), or one address. */
  address: string;
  port: number;
}

const familyOf = (a: string): 4 | 6 => (a.includes(':') ? 6 : 4);

/**
 * `conntrack -E -e NEW -o timestamp` lines, e.g.
 * `[1733045000.123456]	    [NEW] tcp      6 120 SYN_SENT src=192.0.2.2 dst=192.0.2.1 sport=40000 dport=8080 [UNREPLIED] src=…`
 * (the first tuple is the original direction: who opened the flow).
 */
export function parseConntrackEvent(line: string, now: number): Observation | null {
  const m = /^(?:\[(\d+(?:\.\d+)?)\]\s+)?\s*\[NEW\]\s+(tcp|udp)\s.*?\bsrc=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/.exec(line);
  if (!m || isIP(m[3]!) === 0 || isIP(m[4]!) === 0) return null;
  const src = canonicalAddress(m[3]!);
  return { at: m[1] ? Math.round(Number(m[1]) * 1000) : now, family: familyOf(src), protocol: m[2] as L4, src, sport: Number(m[5]), dst: canonicalAddress(m[4]!), dport: Number(m[6]) };
}

const JUDGED = new Set(['accept', 'drop', 'reject', 'would-drop', 'would-reject', 'would-accept']);

/** One of the agent's JSON log lines about an inbound TCP or UDP packet it judged. */
export function parseAgentEvent(line: string): Observation | null {
  if (!line.includes('"dport"')) return null;
  let e: { event?: unknown; direction?: unknown; proto?: unknown; src?: unknown; dst?: unknown; sport?: unknown; dport?: unknown; time?: unknown };
  try {
    e = JSON.parse(line) as typeof e;
  } catch {
    return null;
  }
  if (typeof e !== 'object' || e === null || !JUDGED.has(e.event as string) || e.direction !== 'inbound') return null;
  if ((e.proto !== 'tcp' && e.proto !== 'udp') || typeof e.src !== 'string' || typeof e.dst !== 'string' || isIP(e.src) === 0 || isIP(e.dst) === 0) return null;
  if (!Number.isInteger(e.dport) || !Number.isInteger(e.sport)) return null;
  const at = typeof e.time === 'string' ? Date.parse(e.time) : typeof e.time === 'number' ? e.time : NaN;
  if (!Number.isFinite(at)) return null;
  const src = canonicalAddress(e.src);
  return { at, family: familyOf(src), protocol: e.proto, src, sport: e.sport as number, dst: canonicalAddress(e.dst), dport: e.dport as number };
}

/** `ss -H -ltnu` output: `tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*`, `udp UNCONN 0 0 [::]:53 [::]:*`, `*:80`. */
export function parseSs(output: string): Listener[] {
  const out: Listener[] = [];
  for (const line of output.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || (f[0] !== 'tcp' && f[0] !== 'udp')) continue;
    const m = /^(.*):(\d+)$/.exec(f[4]!);
    if (!m) continue;
    let address = m[1]!.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    if (address === '*') address = '::';
    if (isIP(address) === 0) continue;
    out.push({ protocol: f[0], address: canonicalAddress(address), port: Number(m[2]) });
  }
  return out;
}
