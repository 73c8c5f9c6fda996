import { controlOption, jsonOption, parse, type Io } from './args.js';
import { ask, CONTROL_HELP } from './client-command.js';

const cmd = {
  usage: `usage: vpsfw reload [--json] [--control PATH]

Makes the running agent load and validate its policy file again (same as SIGHUP). A bad policy is
refused with its errors and the running one stays in force; bans are kept.
  --json           the outcome as JSON: {"source", "policyHash"}
${CONTROL_HELP}`,
  options: { ...controlOption, ...jsonOption },
} as const;

export default async function reload(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const r = (await ask(values, { cmd: 'reload' })) as { policyHash: string; source: string };
  io.out(values.json ? JSON.stringify({ source: r.source, policyHash: r.policyHash }) : `reloaded ${r.source} (policy ${r.policyHash})`);
  return 0;
}
