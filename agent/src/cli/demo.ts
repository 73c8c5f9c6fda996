import { formatTable, runDemo } from '../demo/demo.js';
import { parse, type Io } from './args.js';

const cmd = {
  usage: `usage: vpsfw demo

Builds an attacker, a client and a server network namespace, runs the agent on its default policy
(plus a demo payload rule) in the server's, plays a normal session, a SYN flood, an ICMP flood, an
oversized ping, a port scan and a blocked payload with real packets, prints what happened, and
removes everything. Needs root, iptables, ipset, hping3, ping. Exit 1 if anything was unexpected.`,
  options: {},
} as const;

export default async function demo(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const rows = await runDemo((l) => io.err(l));
  io.out('\n' + formatTable(rows) + '\n');
  const bad = rows.filter((r) => !r.ok);
  io.out(bad.length === 0 ? `all ${rows.length} scenes went as expected` : `${bad.length} of ${rows.length} scenes were unexpected`);
  return bad.length === 0 ? 0 : 1;
}
