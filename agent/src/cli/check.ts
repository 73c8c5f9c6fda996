import { PolicyInvalidError, formatIssue } from '../errors.js';
import { loadPolicy } from '../policy/load.js';
import { jsonOption, parse, policyOption, type Io } from './args.js';

const cmd = {
  usage: `usage: vpsfw check [--policy FILE] [--json]

Validates a policy: the file given, else the one cosmiconfig finds from here (vpsfw.config.json,
.vpsfwrc, package.json#vpsfw, ...), else the built-in default. Exit 0 when valid; exit 1 with every
problem as "path: message (got value)".
  --json           the outcome as JSON: {"ok", "source", "hash"} or {"ok": false, "source", "issues"}`,
  options: { ...policyOption, ...jsonOption },
} as const;

export default async function check(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  try {
    const p = await loadPolicy({ file: values.policy, searchFrom: process.cwd() });
    io.out(values.json ? JSON.stringify({ ok: true, source: p.source, hash: p.hash }) : `ok: ${p.source} (policy ${p.hash})`);
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyInvalidError)) throw err;
    if (values.json) return io.out(JSON.stringify({ ok: false, source: err.source, total: err.total, issues: err.issues })), 1;
    io.err(`invalid policy ${err.source}: ${err.total} problem${err.total > 1 ? 's' : ''}`);
    for (const i of err.issues) io.err(formatIssue(i));
    if (err.total > err.issues.length) io.err(`… and ${err.total - err.issues.length} more`);
    return 1;
  }
}
