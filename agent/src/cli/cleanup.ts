import { KernelFirewall } from '../kernel/apply.js';
import { realRunner } from '../kernel/exec.js';
import { parse, type Io } from './args.js';

const cmd = {
  usage: `usage: vpsfw cleanup

Removes every vpsfw chain, jump and ipset set from this network namespace, leaving every other rule
as it is. For a host where the agent was killed and is not coming back.`,
  options: {},
} as const;

export default async function cleanup(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const fw = new KernelFirewall(realRunner());
  const had = await fw.installed();
  await fw.remove();
  io.out(had ? 'vpsfw chains, jumps and sets removed' : 'no vpsfw chains were installed (any leftover sets removed)');
  return 0;
}
