// OpenSSH's log lines, as fail2ban's sshd filter (mode "normal") and CrowdSec's sshd-logs parser
// read them, reduced to what counting needs. Pure: a line in, an event or null out.
//
// Every pattern is anchored at both ends and takes the address that comes last: a user name is
// the client's text ("Invalid user x from 6.6.6.6 port 1 from 192.0.2.2 port 5"), the address
// after it is sshd's. A line with a syslog prefix counts only when the program is sshd.
import { isIP } from 'node:net';
import { canonicalAddress } from '../packet/address.js';

export type SshdEventKind =
  /** An authentication attempt that failed: counts once. */
  | 'attempt'
  /** The end of a session that failed (closed, reset, too many attempts): counts only if nothing else in the session did. */
  | 'closing'
  /** A successful login: its source is forgiven. */
  | 'success';

export interface SshdEvent {
  kind: SshdEventKind;
  address: string;
  /** The client's port: names the session (every OpenSSH line of it carries it). */
  port: number;
  /** "Invalid user": the "Failed password for invalid user" line that follows is the same attempt. */
  invalidUser?: true;
}

const ADDR = '([0-9A-Fa-f:.]+)';
const PORT = ' port (\\d+)';
/** A user sshd has not let in yet: "Disconnected from user x" (no qualifier) ends a session that logged in. */
const USER = '(?:invalid|authenticating) user .*';
const PREAUTH = '(?: \\[preauth\\])?';

const PATTERNS: ReadonlyArray<{ kind: SshdEventKind; re: RegExp; invalidUser?: true }> = [
  // publickey is never a failure (a client offers its keys in turn), "none" is the probe every client makes first.
  { kind: 'attempt', re: new RegExp(`^Failed (?!publickey |none )\\S+ for (?:invalid user )?.* from ${ADDR}${PORT}(?: ssh2)?$`) },
  { kind: 'attempt', re: new RegExp(`^[Ii]nvalid user .* from ${ADDR}${PORT}$`), invalidUser: true },
  { kind: 'attempt', re: new RegExp(`^User .* from ${ADDR} not allowed because .*$`) },
  { kind: 'closing', re: new RegExp(`^(?:error: )?maximum authentication attempts exceeded for ${'(?:invalid user )?.*'} from ${ADDR}${PORT}(?: ssh2)?${PREAUTH}$`) },
  { kind: 'closing', re: new RegExp(`^Connection (?:closed|reset) by ${USER} ${ADDR}${PORT}${PREAUTH}$`) },
  { kind: 'closing', re: new RegExp(`^Disconnected from ${USER} ${ADDR}${PORT} \\[preauth\\]$`) },
  { kind: 'closing', re: new RegExp(`^Disconnecting ${USER} ${ADDR}${PORT}: Too many authentication failures${PREAUTH}$`) },
  { kind: 'closing', re: new RegExp(`^Received disconnect from ${ADDR}${PORT}:\\s*3: .*: Auth fail${PREAUTH}$`) },
  { kind: 'closing', re: new RegExp(`^banner exchange: Connection from ${ADDR}${PORT}: invalid format$`) },
  { kind: 'success', re: new RegExp(`^Accepted \\S+ for .* from ${ADDR}${PORT}(?: ssh2)?(?:: .*)?$`) },
];

/** "Dec  1 09:30:00 host sshd[123]: msg" and "2026-12-01T09:30:00.123+00:00 host sshd[123]: msg" (rsyslog's two formats). */
const SYSLOG = /^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) \S+ ([^\s[:]+)(?:\[\d+\])?: (.*)$/;
const SSHD_PROGRAMS = new Set(['sshd', 'sshd-session']);

/**
 * A line of a file: with a syslog prefix (auth.log) only sshd's count; without one (`sshd -E FILE`)
 * the line is sshd's message.
 */
export function sshdMessageOfLine(line: string): string | null {
  const m = SYSLOG.exec(line);
  if (!m) return line;
  return SSHD_PROGRAMS.has(m[1]!) ? m[2]! : null;
}

/** A journal entry's message; `program` is its SYSLOG_IDENTIFIER. */
export function sshdMessageOfJournal(message: string, program: string | undefined): string | null {
  return program !== undefined && SSHD_PROGRAMS.has(program) ? message : null;
}

export function parseSshdMessage(message: string): SshdEvent | null {
  const text = message.trimEnd();
  for (const p of PATTERNS) {
    const m = p.re.exec(text);
    if (!m) continue;
    const address = m[1]!;
    if (isIP(address) === 0) return null;
    const port = m[2] === undefined ? 0 : Number(m[2]);
    const e: SshdEvent = { kind: p.kind, address: canonicalAddress(address), port };
    if (p.invalidUser) e.invalidUser = true;
    return e;
  }
  return null;
}
