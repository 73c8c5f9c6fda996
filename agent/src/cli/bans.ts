import type { BanEntry } from '../bans/store.js';
import { controlOption, jsonOption, parse, type Io } from './args.js';
import { ask, CONTROL_HELP } from './client-command.js';
import { humanDuration } from './duration.js';
import { formatTable } from './table.js';

const cmd = {
  usage: `usage: vpsfw bans [--json] [--control PATH]

Lists the bans in force, soonest expiry first: the address, the time left, the how-many-th ban of
that address it is (escalation), who decided it and why.
  --json           as JSON (times as epoch milliseconds)
${CONTROL_HELP}`,
  options: { ...controlOption, ...jsonOption },
} as const;

export default async function bans(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const list = (await ask(values, { cmd: 'bans' })) as BanEntry[];
  if (values.json) return io.out(JSON.stringify(list, null, 2)), 0;
  if (list.length === 0) return io.out('no bans'), 0;
  const now = Date.now();
  io.out(formatTable(['address', 'left', 'ban #', 'by', 'reason'], list.map((b) => [b.address, humanDuration(b.until - now), String(b.offense), b.by, b.reason])));
  return 0;
}
