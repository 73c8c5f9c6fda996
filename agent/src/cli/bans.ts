import type { BanEntry } from '../bans/store.js';
import { controlOption, parse, type Io } from './args.js';
import { ask, CONTROL_HELP } from './client-command.js';

const cmd = {
  usage: `usage: vpsfw bans [--json] [--control PATH]

Lists the bans in force, soonest expiry first.
  --json           as JSON
${CONTROL_HELP}`,
  options: { ...controlOption, json: { type: 'boolean' } },
} as const;

export default async function bans(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const list = (await ask(values, { cmd: 'bans' })) as BanEntry[];
  if (values.json) return io.out(JSON.stringify(list, null, 2)), 0;
  if (list.length === 0) return io.out('no bans'), 0;
  const now = Date.now();
  for (const b of list) {
    io.out(`${b.address.padEnd(40)} ${String(Math.max(0, Math.round((b.until - now) / 1000))).padStart(8)}s left  #${b.offense}  ${b.by}: ${b.reason}`);
  }
  return 0;
}
