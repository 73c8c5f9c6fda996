// What the control commands share: the --control option and the call to the daemon.
import { callDaemon } from '../control/client.js';
import { DEFAULT_CONTROL_PATH, type Request } from '../control/protocol.js';

export function controlPath(values: { control?: string | undefined }): string {
  return values.control ?? DEFAULT_CONTROL_PATH;
}

export function ask(values: { control?: string | undefined }, req: Request): Promise<unknown> {
  return callDaemon(controlPath(values), req);
}

export const CONTROL_HELP = `  --control PATH   the daemon's control socket (default ${DEFAULT_CONTROL_PATH})`;
