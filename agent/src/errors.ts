// One place for the agent's errors: callers and tests match on `code`, never on message text.
// Every code is listed in docs/errors.md.

export type ErrorCode =
  | 'VPSFW_ERR_POLICY_INVALID'
  | 'VPSFW_ERR_POLICY_NOT_FOUND'
  | 'VPSFW_ERR_POLICY_UNREADABLE'
  | 'VPSFW_ERR_KERNEL_COMMAND'
  | 'VPSFW_ERR_QUEUE'
  | 'VPSFW_ERR_CONTROL_UNAVAILABLE'
  | 'VPSFW_ERR_CONTROL_PROTOCOL'
  | 'VPSFW_ERR_BAN_REFUSED'
  | 'VPSFW_ERR_HTTP'
  | 'VPSFW_ERR_USAGE';

export class VpsfwError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'VpsfwError';
  }
}

/** One problem found in a policy, located by its path (`rules.0.ports.1`). */
export interface PolicyIssue {
  path: string;
  message: string;
  value: unknown;
}

export class PolicyInvalidError extends VpsfwError {
  readonly issues: readonly PolicyIssue[];
  readonly source: string;
  constructor(source: string, issues: readonly PolicyIssue[]) {
    super(
      'VPSFW_ERR_POLICY_INVALID',
      `invalid policy ${source}:\n` + issues.map(formatIssue).join('\n'),
    );
    this.issues = issues;
    this.source = source;
  }
}

export function formatIssue(i: PolicyIssue): string {
  const where = i.path === '' ? '(root)' : i.path;
  return i.value === undefined ? `${where}: ${i.message}` : `${where}: ${i.message} (got ${JSON.stringify(i.value)})`;
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
