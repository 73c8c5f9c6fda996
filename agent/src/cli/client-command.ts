// What the control commands share: the --control option and the call to the daemon.
import { isIP } from 'node:net';
import { callDaemon } from '../control/client.js';
import { UsageError } from '../errors.js';
import { DEFAULT_CONTROL_PATH, type Request } from '../control/protocol.js';
import type { AgentStatus } from '../daemon/status.js';
import { readQueueStats } from '../queue/kernel-drops.js';

export function controlPath(values: { control?: string | undefined }): string {
  return values.control ?? DEFAULT_CONTROL_PATH;
}

export function ask(values: { control?: string | undefined }, req: Request, signal?: AbortSignal): Promise<unknown> {
  // A reload validates the policy in a child process and swaps the kernel rules: on a busy host
  // that takes seconds, and the answer is the point of `vpsfw reload`.
  return callDaemon(controlPath(values), req, req.cmd === 'reload' ? 120_000 : 10_000, signal);
}

/**
 * The running agent's status. The kernel's queue table is root's alone (mode 0440): the agent
 * under its units' DynamicUser cannot read it, this root CLI can, in the same network namespace.
 */
export async function askStatus(values: { control?: string | undefined }, signal?: AbortSignal, readQueue = readQueueStats): Promise<AgentStatus> {
  const s = (await ask(values, { cmd: 'status' }, signal)) as AgentStatus;
  if (s.queue.kernel === null) s.queue.kernel = readQueue(s.queue.num);
  return s;
}

export const CONTROL_HELP = `  --control PATH   the daemon's control socket (default ${DEFAULT_CONTROL_PATH})`;

/** The one IPv4 or IPv6 address `ban` and `unban` take. */
export function oneAddress(positionals: string[], usage: string): string {
  const [address] = positionals;
  const problem =
    address === undefined
      ? 'no address given: name one IPv4 or IPv6 address'
      : positionals.length > 1
        ? `one address at a time (got ${JSON.stringify(positionals.join(' '))})`
        : isIP(address) === 0
          ? `not an IPv4 or IPv6 address (got ${JSON.stringify(address)})`
          : null;
  if (problem) throw new UsageError(`${problem}\n\n${usage}`);
  return address!;
}
