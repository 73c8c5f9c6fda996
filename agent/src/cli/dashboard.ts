import { readFile } from 'node:fs/promises';
import type { AgentStatus } from '../daemon/status.js';
import { VpsfwError } from '../errors.js';
import { controlOption, parse, type Io } from './args.js';
import { ask, CONTROL_HELP } from './client-command.js';

const cmd = {
  usage: `usage: vpsfw dashboard [--control PATH]

Prints the running agent's dashboard address with its token, for a browser on this host (or one
the listener lets in). Root only: the token is in the agent's state directory. The listener is
off unless \`vpsfw run --http ADDR:PORT\` or the policy's http.listen turn it on; Prometheus
scrapes /metrics there with the same token (docs/observability.md).
${CONTROL_HELP}`,
  options: { ...controlOption },
} as const;

export default async function dashboard(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const s = (await ask(values, { cmd: 'status' })) as AgentStatus;
  if (!s.http) throw new VpsfwError('VPSFW_ERR_HTTP', 'the agent has no HTTP listener: start it with `vpsfw run --http 127.0.0.1:9469`, or set http.listen in the policy (docs/observability.md)');
  let token: string;
  try {
    token = (await readFile(s.http.tokenFile, 'utf8')).trim();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new VpsfwError('VPSFW_ERR_HTTP', `cannot read the dashboard token ${s.http.tokenFile}: ${e.code === 'EACCES' ? 'permission denied (root only: try sudo)' : e.message}`, { cause: err });
  }
  io.out(`${s.http.url}?token=${encodeURIComponent(token)}`);
  return 0;
}
