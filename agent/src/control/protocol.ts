// The control protocol: one JSON request line, one JSON response line, over a root-only unix
// socket. A bad request gets an error naming the field, never a crash. Checked by hand rather than
// with zod: five small shapes, and the daemon then holds no validator in memory (the policy is
// validated in a child process, policy/load-isolated.ts).
import { isIP } from 'node:net';

export const DEFAULT_CONTROL_PATH = '/run/vpsfw/control.sock';
export const DEFAULT_STATE_DIR = '/var/lib/vpsfw';

export type Request =
  | { cmd: 'status' }
  | { cmd: 'bans' }
  | { cmd: 'reload' }
  | { cmd: 'ban'; address: string; durationMs: number | null; reason: string }
  | { cmd: 'unban'; address: string };

export type Response = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

/** Requests larger than this are refused: the protocol has no use for them. */
export const MAX_LINE = 64 * 1024;

const FIELDS: Record<Request['cmd'], readonly string[]> = {
  status: [],
  bans: [],
  reload: [],
  ban: ['address', 'durationMs', 'reason'],
  unban: ['address'],
};

/** The request in `value`, or a message naming what is wrong with it. */
export function parseRequest(value: unknown): { ok: true; request: Request } | { ok: false; message: string } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: 'request: expected an object' };
  const r = value as Record<string, unknown>;
  const cmd = r.cmd as Request['cmd'];
  if (typeof cmd !== 'string' || !Object.hasOwn(FIELDS, cmd)) return { ok: false, message: `cmd: expected one of ${Object.keys(FIELDS).join(', ')} (got ${JSON.stringify(r.cmd)})` };
  const unknown = Object.keys(r).filter((k) => k !== 'cmd' && !FIELDS[cmd].includes(k));
  if (unknown.length > 0) return { ok: false, message: `request: unknown key ${unknown.map((k) => `"${k}"`).join(', ')}` };
  const bad = (field: string, expected: string) => ({ ok: false as const, message: `${field}: expected ${expected} (got ${JSON.stringify(r[field])})` });
  if (cmd === 'ban' || cmd === 'unban') {
    if (typeof r.address !== 'string' || isIP(r.address) === 0) return bad('address', 'an IPv4 or IPv6 address');
  }
  if (cmd === 'ban') {
    if (r.durationMs !== null && !(Number.isSafeInteger(r.durationMs) && (r.durationMs as number) > 0)) return bad('durationMs', 'a positive whole number of milliseconds, or null');
    if (typeof r.reason !== 'string' || r.reason.length > 200) return bad('reason', 'text of at most 200 characters');
  }
  return { ok: true, request: r as Request };
}
