// Suricata's eve.json: one JSON object per line; `event_type: "alert"` records name the rule that
// matched (`alert.signature_id`, `alert.signature`) and its `alert.severity` (1 is the highest).
// Pure: a line in, the ban it asks for (or null) out; a line that is not such a record is null.
import { isIP } from 'node:net';
import { canonicalAddress } from '../packet/address.js';

export interface EveOptions {
  minSeverity: number;
  banMs: number;
  /** Per signature id: its ban length, or false: never ban for it. */
  signatures: Readonly<Record<string, number | false>>;
}

export interface EveBan {
  address: string;
  durationMs: number;
  severity: number;
  signatureId: number;
  /** "suricata 2001219: ET SCAN Potential SSH Scan": one text per rule (the ban store keeps each distinct reason once). */
  reason: string;
}

const MAX_SIGNATURE = 120;

export function parseEveAlert(line: string, o: EveOptions): EveBan | null {
  if (!line.includes('"alert"')) return null;
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof rec !== 'object' || rec === null) return null;
  const r = rec as { event_type?: unknown; src_ip?: unknown; alert?: { severity?: unknown; signature_id?: unknown; signature?: unknown } };
  if (r.event_type !== 'alert' || typeof r.alert !== 'object' || r.alert === null) return null;
  const { severity, signature_id: sid, signature } = r.alert;
  if (typeof severity !== 'number' || !Number.isInteger(sid) || typeof r.src_ip !== 'string' || isIP(r.src_ip) === 0) return null;
  const own = o.signatures[String(sid)];
  if (own === false || (own === undefined && severity > o.minSeverity)) return null;
  // Suricata may print IPv6 with every zero ("2001:0db8:0000:…"): the store and the kernel speak canonical text.
  const name = typeof signature === 'string' ? `: ${signature.slice(0, MAX_SIGNATURE)}` : '';
  return { address: canonicalAddress(r.src_ip), durationMs: own ?? o.banMs, severity, signatureId: sid as number, reason: `suricata ${sid}${name}` };
}
