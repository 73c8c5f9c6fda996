// The control protocol: one JSON request line, one JSON response line, over a root-only unix
// socket. Requests are validated with zod like the policy: a bad request gets an error, never a crash.
import { z } from 'zod';

export const DEFAULT_CONTROL_PATH = '/run/vpsfw/control.sock';
export const DEFAULT_STATE_DIR = '/var/lib/vpsfw';

export const Request = z.discriminatedUnion('cmd', [
  z.strictObject({ cmd: z.literal('status') }),
  z.strictObject({ cmd: z.literal('bans') }),
  z.strictObject({ cmd: z.literal('reload') }),
  z.strictObject({
    cmd: z.literal('ban'),
    address: z.union([z.ipv4(), z.ipv6()]),
    durationMs: z.number().int().positive().nullable(),
    reason: z.string().max(200),
  }),
  z.strictObject({ cmd: z.literal('unban'), address: z.union([z.ipv4(), z.ipv6()]) }),
]);
export type Request = z.infer<typeof Request>;

export type Response = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

/** Requests larger than this are refused: the protocol has no use for them. */
export const MAX_LINE = 64 * 1024;
