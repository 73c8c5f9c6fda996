import { controlOption, jsonOption, parse, type Io } from './args.js';
import { ask, CONTROL_HELP, oneAddress } from './client-command.js';

const cmd = {
  usage: `usage: vpsfw unban IP [--json] [--control PATH]

Lifts a ban now (kernel set and state file).
  --json           as JSON: {"address", "wasBanned"}
${CONTROL_HELP}`,
  options: { ...controlOption, ...jsonOption },
  positionals: true,
} as const;

export default async function unban(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const address = oneAddress(positionals, cmd.usage);
  const r = (await ask(values, { cmd: 'unban', address })) as { wasBanned: boolean };
  if (values.json) return io.out(JSON.stringify({ address, wasBanned: r.wasBanned })), 0;
  io.out(r.wasBanned ? `unbanned ${address}` : `${address} was not banned`);
  return 0;
}
