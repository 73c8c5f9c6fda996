import { PolicyInvalidError, formatIssue } from '../errors.js';
import { loadPolicy } from '../policy/load.js';
import { parse, policyOption, type Io } from './args.js';

const cmd = {
  usage: `usage: vpsfw check [--policy FILE]

Validates a policy: the file given, else the one cosmiconfig finds from here (vpsfw.config.json,
.vpsfwrc, package.json#vpsfw, ...), else the built-in default. Exit 0 when valid; exit 1 with every
problem as "path: message (got value)".`,
  options: { ...policyOption },
} as const;

export default async function check(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  try {
    const p = await loadPolicy({ file: values.policy, searchFrom: process.cwd() });
    io.out(`ok: ${p.source} (policy ${p.hash})`);
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyInvalidError)) throw err;
    io.err(`invalid policy ${err.source}: ${err.total} problem${err.total > 1 ? 's' : ''}`);
    for (const i of err.issues) io.err(formatIssue(i));
    if (err.total > err.issues.length) io.err(`… and ${err.total - err.issues.length} more`);
    return 1;
  }
}
