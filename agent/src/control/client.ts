// The CLI's side of the control socket, with messages that say what to do when the daemon is
// not there or the caller may not talk to it.
import { createConnection } from 'node:net';
import { VpsfwError } from '../errors.js';
import type { Request, Response } from './protocol.js';

/** `signal` abandons the call: the socket is closed, the promise rejects. */
export async function callDaemon(path: string, req: Request, timeoutMs = 10_000, signal?: AbortSignal): Promise<unknown> {
  const res = await new Promise<Response>((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    sock.setEncoding('utf8');
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    signal?.addEventListener('abort', () => sock.destroy(new Error('abandoned')), { once: true });
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (c: string) => (buf += c));
    sock.on('end', () => {
      try {
        resolve(JSON.parse(buf) as Response);
      } catch {
        reject(new VpsfwError('VPSFW_ERR_CONTROL_PROTOCOL', `the daemon sent an unreadable answer: ${buf.slice(0, 200)}`));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => reject(explain(path, err)));
  });
  if (!res.ok) throw new VpsfwError(res.error.code as never, res.error.message);
  return res.result;
}

function explain(path: string, err: NodeJS.ErrnoException): VpsfwError {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
    return new VpsfwError('VPSFW_ERR_NOT_RUNNING', `vpsfw is not running (no control socket at ${path}); start it with \`systemctl start vpsfw\` or \`vpsfw run\``, { cause: err });
  }
  const why =
    err.code === 'EACCES' || err.code === 'EPERM'
      ? `permission denied on ${path}: the control socket is for root only (try sudo)`
      : `cannot talk to the daemon at ${path}: ${err.message}`;
  return new VpsfwError('VPSFW_ERR_CONTROL_UNAVAILABLE', why, { cause: err });
}
