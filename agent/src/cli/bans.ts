import type { BanEntry } from '../bans/store.js';
import { controlOption, parse, type Io } from './args.js';
import { ask, CONTROL_HELP } from './client-command.js';

const cmd = {
  usage: `usage: vpsfw bans [--json] [--control PATH]

Lists the bans in force, soonest expiry first: the address or network, the time left, the
offense count, the origin (agent, control, crowdsec, log, kernel) and why (CrowdSec's: the scenario).
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
    // Where the ban came from, and why: CrowdSec's bans by their scenario.
    const why = b.origin === 'crowdsec' ? (b.scenario ?? b.reason) : `${b.by}: ${b.reason}`;
    io.out(`${b.address.padEnd(40)} ${String(Math.max(0, Math.round((b.until - now) / 1000))).padStart(8)}s left  #${b.offense}  ${(b.origin ?? 'agent').padEnd(8)}  ${why}`);
  }
  return 0;
}
