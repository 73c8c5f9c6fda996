// One place for the agent's errors: callers and tests match on `code`, never on message text.
// Every code is listed in docs/errors.md.

export type ErrorCode =
  | 'VPSFW_ERR_POLICY_INVALID'
  | 'VPSFW_ERR_POLICY_NOT_FOUND'
  | 'VPSFW_ERR_POLICY_UNREADABLE'
  | 'VPSFW_ERR_KERNEL_COMMAND'
  | 'VPSFW_ERR_QUEUE'
  | 'VPSFW_ERR_NOT_RUNNING'
  | 'VPSFW_ERR_CONTROL_UNAVAILABLE'
  | 'VPSFW_ERR_CONTROL_PROTOCOL'
  | 'VPSFW_ERR_BAN_REFUSED'
  | 'VPSFW_ERR_HTTP'
  | 'VPSFW_ERR_STOPPING'
  | 'VPSFW_ERR_BAN_STATE'
  | 'VPSFW_ERR_CROWDSEC_SECRET'
  | 'VPSFW_ERR_CROWDSEC_UNREACHABLE'
  | 'VPSFW_ERR_CROWDSEC_AUTH'
  | 'VPSFW_ERR_CROWDSEC_API'
  | 'VPSFW_ERR_USAGE';

/**
 * The CLI's exit code for an error: 2 for usage, 3 for "not running" (as `systemctl is-active` and
 * `ufw status` do), 1 for every other failure. docs/errors.md lists them.
 */
export function exitCodeOf(code: ErrorCode): number {
  return code === 'VPSFW_ERR_USAGE' ? 2 : code === 'VPSFW_ERR_NOT_RUNNING' ? 3 : 1;
}

export class VpsfwError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'VpsfwError';
  }
}

/**
 * One problem found in a policy, located by its path (`rules.0.ports.1`). Every field is bounded
 * (see shortValue), so an issue can be printed, logged and sent between processes whatever the
 * document held: a value nested 100,000 deep or 20 MB long shows as a few dozen characters.
 */
export interface PolicyIssue {
  path: string;
  message: string;
  /** The offending value, shortened; undefined when the message says it all. */
  value: unknown;
}

/** Issues listed at most; the count of the others is kept (PolicyInvalidError.total). */
export const MAX_LISTED_ISSUES = 50;

export class PolicyInvalidError extends VpsfwError {
  /** The first MAX_LISTED_ISSUES problems, shortened. */
  readonly issues: readonly PolicyIssue[];
  /** How many problems there are in all. */
  readonly total: number;
  readonly source: string;
  constructor(source: string, issues: readonly PolicyIssue[], total = issues.length) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES).map((i) => ({ path: shortText(i.path), message: shortText(i.message), value: shortValue(i.value) }));
    const more = total > listed.length ? `\n… and ${total - listed.length} more` : '';
    super('VPSFW_ERR_POLICY_INVALID', `invalid policy ${source}:\n` + listed.map(formatIssue).join('\n') + more);
    this.issues = listed;
    this.total = total;
    this.source = source;
  }
}

export function formatIssue(i: PolicyIssue): string {
  const where = i.path === '' ? '(root)' : i.path;
  return i.value === undefined ? `${where}: ${i.message}` : `${where}: ${i.message} (got ${formatValue(i.value)})`;
}

const MAX_TEXT = 100;
const KEPT_TEXT = 60;
/** Entries of an array or object shown, the last place saying how many more there are. */
const MAX_ENTRIES = 4;
/** Arrays and objects below this depth show as "…". */
const MAX_DEPTH = 2;

/** Text cut to a few dozen characters when long, saying how long it was. */
export function shortText(s: string): string {
  return s.length <= MAX_TEXT ? s : `${s.slice(0, KEPT_TEXT)}… (${s.length} characters)`;
}

/**
 * A JSON-safe copy of a value small enough to print: long strings cut, at most MAX_ENTRIES entries
 * and MAX_DEPTH levels of arrays and objects (the walk stops there, so no depth of user data can
 * overflow the stack). Shortening a short value changes nothing, so it can be done again anywhere.
 */
export function shortValue(value: unknown, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
      return shortText(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'bigint':
      return shortText(`${value}n`);
    case 'symbol':
    case 'function':
      return shortText(String(value));
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(value)) {
    if (value.length <= MAX_ENTRIES) return value.map((v) => shortValue(v, depth + 1));
    return [...value.slice(0, MAX_ENTRIES - 1).map((v) => shortValue(v, depth + 1)), `… (${value.length - MAX_ENTRIES + 1} more)`];
  }
  const keys = Object.keys(value as object);
  const out: Record<string, unknown> = {};
  const shown = keys.length <= MAX_ENTRIES ? keys : keys.slice(0, MAX_ENTRIES - 1);
  for (const k of shown) out[shortText(k)] = shortValue((value as Record<string, unknown>)[k], depth + 1);
  if (shown.length < keys.length) out['…'] = `${keys.length - shown.length} more keys`;
  return out;
}

/** A value as it is shown in messages: its shortened JSON. */
export function formatValue(value: unknown): string {
  return JSON.stringify(shortValue(value)) ?? String(value);
}

export class KernelCommandError extends VpsfwError {
  readonly command: string;
  readonly stderr: string;
  constructor(command: string, stderr: string, status: number | null) {
    super('VPSFW_ERR_KERNEL_COMMAND', `${command} failed (exit ${status}): ${stderr.trim()}`);
    this.command = command;
    this.stderr = stderr;
  }
}

export class UsageError extends VpsfwError {
  constructor(message: string) {
    super('VPSFW_ERR_USAGE', message);
  }
}
