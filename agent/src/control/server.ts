// The daemon's side of the control socket. Mode 0600: only the daemon's user and root get in.
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { VpsfwError } from '../errors.js';
import { MAX_LINE, parseRequest, type Request, type Response } from './protocol.js';

export type ControlHandler = (req: Request) => Promise<unknown>;

// sun_path holds 108 bytes with the terminating NUL; a longer path would be cut short silently.
const MAX_SOCKET_PATH = 107;

export async function listenControl(path: string, handle: ControlHandler): Promise<Server> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) throw new VpsfwError('VPSFW_ERR_USAGE', `control socket path is too long (${Buffer.byteLength(path)} bytes, at most ${MAX_SOCKET_PATH}): ${path}`);
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await rm(path, { force: true });
  const server = createServer((sock) => serve(sock, handle));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return server;
}

function serve(sock: Socket, handle: ControlHandler): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('error', () => sock.destroy());
  sock.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > MAX_LINE) return reply(sock, { ok: false, error: { code: 'VPSFW_ERR_CONTROL_PROTOCOL', message: 'request too large' } });
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    const line = buf.slice(0, nl);
    sock.removeAllListeners('data');
    answer(line, handle).then((r) => reply(sock, r));
  });
}

async function answer(line: string, handle: ControlHandler): Promise<Response> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: { code: 'VPSFW_ERR_CONTROL_PROTOCOL', message: 'request is not JSON' } };
  }
  const req = parseRequest(json);
  if (!req.ok) return { ok: false, error: { code: 'VPSFW_ERR_CONTROL_PROTOCOL', message: req.message } };
  try {
    return { ok: true, result: await handle(req.request) };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { ok: false, error: { code: e.code ?? 'VPSFW_ERR_CONTROL_PROTOCOL', message: e.message ?? String(err) } };
  }
}

function reply(sock: Socket, r: Response): void {
  sock.end(JSON.stringify(r) + '\n');
}

export async function closeControl(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(path, { force: true });
}
