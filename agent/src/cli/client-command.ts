// What the control commands share: the --control option and the call to the daemon.
import { isIP } from 'node:net';
import { callDaemon } from '../control/client.js';
import { UsageError } from '../errors.js';
import { DEFAULT_CONTROL_PATH, type Request } from '../control/protocol.js';

export function controlPath(values: { control?: string | undefined }): string {
  return values.control ?? DEFAULT_CONTROL_PATH;
}

export function ask(values: { control?: string | undefined }, req: Request): Promise<unknown> {
  return callDaemon(controlPath(values), req);
}

export const CONTROL_HELP = `  --control PATH   the daemon's control socket (default ${DEFAULT_CONTROL_PATH})`;

/** The one IPv4 or IPv6 address `ban` and `unban` take. */
export function oneAddress(positionals: string[], usage: string): string {
  const [address] = positionals;
  if (address === undefined || positionals.length > 1 || isIP(address) === 0) {
    throw new UsageError(`expected one IPv4 or IPv6 address (got ${JSON.stringify(positionals.join(' '))})\n\n${usage}`);
  }
  return address;
}
