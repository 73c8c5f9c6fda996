// The LAPI client against a real HTTP server on loopback: the stream read as it arrives, errors
// that name the request, the status and the start of the body (never a secret), a stalled answer
// cut by the deadline, and a refused connection told apart from an answer that may have been lost.
import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LapiClient } from '../../../agent/src/crowdsec/lapi-client.js';
import { LapiError } from '../../../agent/src/crowdsec/lapi-error.js';

async function server(t: Parameters<Parameters<typeof t.test>[1]>[0], handle: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const seen: Array<{ method?: string; url?: string; headers: IncomingMessage['headers']; body: string }> = [];
  const s = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      handle(req, res, body);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => s.close(r)));
  s.on('connection', (c) => t.teardown(() => c.destroy()));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`, seen };
}

const collect = async (it: AsyncIterable<unknown[]>) => {
  const all: unknown[] = [];
  for await (const items of it) all.push(...items);
  return all;
};

t.test('the stream: asked with the key and scopes, read piece by piece', async (t) => {
  const { url, seen } = await server(t, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"deleted":null,"new":[{"id":1,"type":"ban","scope":"Ip","value":"192.0.2.7","duration":"1h","scenario":"s"},');
    setTimeout(() => res.end('{"id":2,"type":"ban","scope":"Range","value":"203.0.113.0/24","duration":"2h","scenario":"s"}]}'), 50);
  });
  const c = new LapiClient({ url, timeoutMs: 5000, userAgent: 'vpsfw/test' });
  const got = await collect(c.decisionsStream('the-key', true));
  t.match(got, [{ list: 'new', decision: { id: 1 } }, { list: 'new', decision: { id: 2, scope: 'Range' } }]);
  t.equal(seen[0]!.url, '/v1/decisions/stream?startup=true&scopes=ip,range');
  t.equal(seen[0]!.headers['x-api-key'], 'the-key');
  t.equal(seen[0]!.headers['user-agent'], 'vpsfw/test');
});

t.test('a large answer in one write: applied in pieces of 16 KiB or less, every decision once', async (t) => {
  const many = Array.from({ length: 2000 }, (_, i) => ({ id: i, type: 'ban', scope: 'Ip', value: `10.0.${i >> 8}.${i & 255}`, duration: '1h', scenario: 'crowdsecurity/ssh-bf' }));
  const body = JSON.stringify({ deleted: [], new: many });
  const { url } = await server(t, (_req, res) => res.end(body));
  const c = new LapiClient({ url, timeoutMs: 5000, userAgent: 'vpsfw/test' });
  const pieces: number[] = [];
  const ids: number[] = [];
  for await (const items of c.decisionsStream('k', true)) {
    pieces.push(items.length);
    for (const it of items) ids.push(Number(it.decision.id));
  }
  t.same(ids, many.map((d) => d.id));
  const perPiece = Math.ceil((16 * 1024) / (body.length / many.length)) + 1;
  t.ok(pieces.length >= Math.floor(body.length / (16 * 1024)), `${pieces.length} pieces for ${body.length} bytes`);
  t.ok(Math.max(...pieces) <= perPiece, `at most ${perPiece} decisions a piece (${Math.max(...pieces)})`);
});

t.test('a refused key: an auth error naming the request, the status and the body, not the key', async (t) => {
  const { url } = await server(t, (_req, res) => {
    res.writeHead(403, { 'Content-Type': 'application/json' });
    res.end('{"message":"access forbidden"}');
  });
  const c = new LapiClient({ url, timeoutMs: 5000, userAgent: 'vpsfw/test' });
  const err = await collect(c.decisionsStream('secret-key-123', false)).catch((e: unknown) => e);
  t.type(err, LapiError);
  t.match(err, { code: 'VPSFW_ERR_CROWDSEC_AUTH', status: 403, endpoint: `GET ${url}v1/decisions/stream` });
  t.match((err as Error).message, `CrowdSec LAPI GET ${url}v1/decisions/stream: 403 Forbidden: {"message":"access forbidden"}`);
  t.notMatch((err as Error).message, 'secret-key-123');
});

t.test('a long error body is shortened; a 500 is an API error', async (t) => {
  const { url } = await server(t, (_req, res) => {
    res.writeHead(500);
    res.end('x'.repeat(5000));
  });
  const err = (await collect(new LapiClient({ url, timeoutMs: 5000, userAgent: 'u' }).decisionsStream('k', false)).catch((e: unknown) => e)) as LapiError;
  t.equal(err.code, 'VPSFW_ERR_CROWDSEC_API');
  t.ok(err.message.length < 500, 'shortened');
  t.match(err.message, /… \(5000 characters\)$/);
});

t.test('a stalled answer fails at the deadline, and may have arrived', async (t) => {
  const { url } = await server(t, (_req, res) => {
    res.writeHead(200);
    res.write('{"new":[');
  });
  const started = Date.now();
  const err = (await collect(new LapiClient({ url, timeoutMs: 300, userAgent: 'u' }).decisionsStream('k', false)).catch((e: unknown) => e)) as LapiError;
  t.match(err, { code: 'VPSFW_ERR_CROWDSEC_UNREACHABLE', mayHaveArrived: true });
  t.match(err.message, /no answer within 300 ms/);
  t.ok(Date.now() - started < 20_000, 'it did end');
});

t.test('nobody listening: unreachable, and the request never arrived', async (t) => {
  // A port that was just free: nothing listens on it.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const dead = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/`;
  await new Promise((r) => probe.close(r));
  const err = (await collect(new LapiClient({ url: dead, timeoutMs: 5000, userAgent: 'u' }).decisionsStream('k', false)).catch((e: unknown) => e)) as LapiError;
  t.match(err, { code: 'VPSFW_ERR_CROWDSEC_UNREACHABLE', status: 0, mayHaveArrived: false });
  t.match(err.message, /ECONNREFUSED/);
});

t.test('login and alerts: the JWT, its expiry, the bearer header', async (t) => {
  const { url, seen } = await server(t, (req, res) => {
    res.writeHead(req.url === '/v1/watchers/login' ? 200 : 201, { 'Content-Type': 'application/json' });
    res.end(req.url === '/v1/watchers/login' ? '{"code":200,"expire":"2030-01-01T00:00:00Z","token":"jwt"}' : '["7"]');
  });
  const c = new LapiClient({ url, timeoutMs: 5000, userAgent: 'u' });
  t.same(await c.login('web1', 'pw', ['vpsfw/synFlood']), { token: 'jwt', expiresAt: Date.parse('2030-01-01T00:00:00Z') });
  t.same(JSON.parse(seen[0]!.body), { machine_id: 'web1', password: 'pw', scenarios: ['vpsfw/synFlood'] });
  t.same(await c.pushAlerts('jwt', []), ['7']);
  t.equal(seen[1]!.headers.authorization, 'Bearer jwt');
});

t.test('an aborted request ends with the abort, not an outage', async (t) => {
  const { url } = await server(t, () => undefined);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  const err = await collect(new LapiClient({ url, timeoutMs: 10_000, userAgent: 'u' }).decisionsStream('k', false, ac.signal)).catch((e: unknown) => e);
  t.equal((err as Error).name, 'AbortError');
});
