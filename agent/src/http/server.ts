// The one HTTP listener: connections from outside http.allowFrom are cut at once, every path
// answers 401 without the token, GET only, small bounded timeouts and connection count, and the
// headers that keep a browser from sending the page anywhere or framing it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { VpsfwError } from '../errors.js';
import type { Cidr } from '../policy/units.js';
import { formatListen, peerMatcher, type Listen } from './listen.js';
import { requestToken, sameToken } from './token.js';

export interface Reply {
  status?: number;
  type: string;
  body: string | Buffer;
}

export type Route = (req: IncomingMessage, url: URL) => Reply | Promise<Reply>;

export interface ListenerOptions {
  listen: Listen;
  allowFrom: readonly Cidr[];
  token: string;
  routes: Readonly<Record<string, Route>>;
  /** A route that threw: the client gets a 500, the agent's log the error. */
  onError: (err: unknown, path: string) => void;
}

/** Scrapers and a few dashboards: more at once is not a use, and each costs memory. */
export const MAX_CONNECTIONS = 32;

const HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

export async function startListener(o: ListenerOptions): Promise<Server> {
  const allowed = peerMatcher(o.allowFrom);
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 }, (req, res) => void serve(o, req, res));
  server.maxConnections = MAX_CONNECTIONS;
  server.on('connection', (sock: Socket) => {
    if (!allowed(sock.remoteAddress ?? '')) sock.destroy();
  });
  server.on('clientError', (_err, sock: Socket) => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new VpsfwError('VPSFW_ERR_HTTP', `cannot listen on ${formatListen(o.listen)}: ${err.code === 'EADDRINUSE' ? 'the address is in use' : err.code === 'EADDRNOTAVAIL' ? 'no such address on this host' : err.message}`, { cause: err })));
    server.listen({ host: o.listen.host, port: o.listen.port }, () => resolve());
  });
  return server;
}

async function serve(o: ListenerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://vpsfw');
  let reply: Reply;
  if (!sameToken(requestToken(req, url), o.token)) {
    reply = { status: 401, type: 'text/plain; charset=utf-8', body: 'a token is needed: `vpsfw dashboard` prints the address with it\n' };
    res.setHeader('www-authenticate', 'Bearer realm="vpsfw"');
  } else if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply = { status: 405, type: 'text/plain; charset=utf-8', body: 'read-only: GET\n' };
    res.setHeader('allow', 'GET, HEAD');
  } else {
    const route = Object.hasOwn(o.routes, url.pathname) ? o.routes[url.pathname]! : null;
    try {
      reply = route ? await route(req, url) : { status: 404, type: 'text/plain; charset=utf-8', body: 'not found\n' };
    } catch (err) {
      o.onError(err, url.pathname);
      reply = { status: 500, type: 'text/plain; charset=utf-8', body: 'internal error (see the agent log)\n' };
    }
  }
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
  res.writeHead(reply.status ?? 200, { ...HEADERS, 'content-type': reply.type, 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Why this host cannot open a connection to the listener, or null when it can. A unit that denies
 * IP traffic (IPAddressDeny=any) without allowing the listener's clients refuses every one of them
 * without a word: this says so at start.
 */
export function probeListener(host: string, port: number, timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (why: string | null) => {
      sock.destroy();
      resolve(why);
    };
    sock.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    sock.once('connect', () => done(null));
    sock.once('error', (err) => done(err.message));
  });
}

export function closeListener(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
