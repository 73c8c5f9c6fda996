import { UsageError } from '../errors.js';
import { parseDuration } from '../policy/units.js';
import { controlOption, jsonOption, parse, type Io } from './args.js';
import { ask, CONTROL_HELP, oneAddress } from './client-command.js';
import { humanDuration } from './duration.js';

const cmd = {
  usage: `usage: vpsfw ban IP [--for DURATION] [--reason TEXT] [--json] [--control PATH]

Bans an IPv4 or IPv6 address in the kernel now. Without --for, the policy's ban duration applies,
escalated for a repeat offender. Allowlisted addresses are refused, and so are those that are never
a real source: 0.0.0.0 and ::, 255.255.255.255, multicast (224.0.0.0/4, ff00::/8).
  --for DURATION   e.g. 30m, 1h, 7d
  --reason TEXT    recorded with the ban
  --json           the ban as JSON
${CONTROL_HELP}`,
  options: { ...controlOption, ...jsonOption, for: { type: 'string' }, reason: { type: 'string' } },
  positionals: true,
} as const;

export default async function ban(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const address = oneAddress(positionals, cmd.usage);
  let durationMs: number | null = null;
  if (values.for !== undefined) {
    durationMs = parseDuration(values.for);
    if (durationMs === null) throw new UsageError(`--for: expected a duration such as "30m", "1h", "7d" (got "${values.for}")`);
  }
  const e = (await ask(values, { cmd: 'ban', address, durationMs, reason: values.reason ?? '' })) as { until: number };
  io.out(values.json ? JSON.stringify(e) : `banned ${address} for ${humanDuration(e.until - Date.now())} (until ${new Date(e.until).toISOString()})`);
  return 0;
}
