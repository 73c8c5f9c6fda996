import { VERSION } from '../version.js';
import { jsonOption, parse, type Io } from './args.js';

const cmd = {
  usage: `usage: vpsfw version [--json]      (also: vpsfw --version)

Prints the version of vpsfw and of the Node.js that runs it.
  --json           as JSON: {"version", "node"}`,
  options: { ...jsonOption },
} as const;

export default async function version(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const node = process.versions.node;
  io.out(values.json ? JSON.stringify({ version: VERSION, node }) : `vpsfw ${VERSION} (Node.js ${node})`);
  return 0;
}
