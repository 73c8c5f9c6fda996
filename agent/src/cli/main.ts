// The `vpsfw` entry point: only a dispatch. Each command lives in its own file, loaded lazily so
// `vpsfw status` does not pay for the engine.
import { processIo, type Io } from './args.js';
import { exitCodeOf, VpsfwError } from '../errors.js';

type CommandFn = (argv: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ default: CommandFn }> }> = {
  check: { summary: 'validate a policy', load: () => import('./check.js') },
  render: { summary: 'print the kernel rules (or the policy) a policy gives', load: () => import('./render.js') },
  run: { summary: 'run the agent in the foreground', load: () => import('./run.js') },
  apply: { summary: 'put the kernel rules, sets and saved bans in force, and exit', load: () => import('./apply.js') },
  status: { summary: 'show the running agent\'s counters', load: () => import('./status.js') },
  top: { summary: 'a live view of the running agent', load: () => import('./top.js') },
  dashboard: { summary: 'print the address of the running agent\'s dashboard, with its token', load: () => import('./dashboard.js') },
  ban: { summary: 'ban an address now', load: () => import('./ban.js') },
  unban: { summary: 'lift a ban', load: () => import('./unban.js') },
  bans: { summary: 'list the bans in force', load: () => import('./bans.js') },
  reload: { summary: 'make the running agent load its policy again', load: () => import('./reload.js') },
  cleanup: { summary: 'remove every vpsfw chain, jump and set', load: () => import('./cleanup.js') },
  learn: { summary: 'propose a policy from the traffic this host had', load: () => import('./learn.js') },
  demo: { summary: 'play attacks against the agent in network namespaces', load: () => import('./demo.js') },
  version: { summary: 'print the version (also --version)', load: () => import('./version.js') },
};

export function usage(): string {
  const rows = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(9)} ${c.summary}`);
  return `usage: vpsfw <command> [options]   (vpsfw <command> --help for its options)\n\ncommands:\n${rows.join('\n')}\n\nexit codes: 0 done, 1 failed, 2 bad usage, 3 vpsfw is not running (docs/errors.md)\n`;
}

export async function main(argv: string[], io: Io = processIo): Promise<void> {
  const [first, ...rest] = argv;
  const name = first === '--version' || first === '-V' ? 'version' : first;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    process.exitCode = name === undefined ? 2 : 0;
    return;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.err(`vpsfw: ${name.startsWith('-') ? `unknown option ${name}` : `unknown command "${name}"`}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  try {
    process.exitCode = await (await cmd.load()).default(rest, io);
  } catch (err) {
    if (err instanceof VpsfwError) {
      io.err(`vpsfw ${name}: ${err.message}`);
      process.exitCode = exitCodeOf(err.code);
    } else {
      io.err(`vpsfw ${name}: unexpected error: ${(err as Error).stack ?? String(err)}`);
      process.exitCode = 1;
    }
  }
}
