// The agent's HTTP routes on a real loopback listener: every path refused without the token (and
// with a wrong one), each route with it, read-only, the page's headers, and a listener that lets
// in only the networks of http.allowFrom.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BanEntry } from '../../../agent/src/bans/store.js';
import { startAgentHttp, type AgentHttpDeps } from '../../../agent/src/http/agent-http.js';
import { EventBus, type AgentEvent } from '../../../agent/src/events/bus.js';
import { parseCidr } from '../../../agent/src/policy/units.js';
import { samples, value } from '../../lib/exposition.js';
import { fakeStatus } from '../../lib/status.js';

const ban = (address: string, since: number): BanEntry => ({ address, family: 4, since, until: since + 60_000, reason: 'r', by: 'control', origin: 'control', offense: 1 });

async function listener(t: Test, over: Partial<AgentHttpDeps> = {}) {
  const events = new EventBus();
  const errors: unknown[] = [];
  const tokenFile = join(t.testdir({}), 'http-token');
  const http = await startAgentHttp({
    listen: { host: '127.0.0.1', port: 0, family: 4 },
    allowFrom: [parseCidr('127.0.0.0/8')!],
    tokenFile,
    status: async () => fakeStatus(),
    bans: () => [ban('192.0.2.1', 1000), ban('192.0.2.3', 3000), ban('192.0.2.2', 2000)],
    events,
    onError: (err) => errors.push(err),
    ...over,
  });
  t.teardown(() => http.close());
  const token = readFileSync(tokenFile, 'utf8').trim();
  const base = http.status.url;
  const get = (path: string, headers: Record<string, string> = {}, init: RequestInit = {}) => fetch(new URL(path, base), { headers, ...init });
  const authed = (path: string, headers: Record<string, string> = {}) => get(path, { authorization: `Bearer ${token}`, ...headers });
  const emit = (e: Partial<AgentEvent>) => events.emit({ level: 'warn', msg: '', event: 'ban', ...e });
  return { http, token, get, authed, emit, errors };
}

const PATHS = ['/', '/metrics', '/api/status', '/api/bans', '/api/events', '/assets/app.js', '/assets/uPlot.iife.min.js', '/assets/dashboard.css', '/nothing-here'];

t.test('every path answers 401 without the token, or with a wrong one', async (t) => {
  const { get, token } = await listener(t);
  for (const p of PATHS) {
    const r = await get(p);
    t.equal(r.status, 401, `${p} without a token`);
    t.equal(r.headers.get('www-authenticate'), 'Bearer realm="vpsfw"');
    t.notMatch(await r.text(), /vpsfw_|<html/, 'and gives nothing away');
    t.equal((await get(p, { authorization: `Bearer ${token.slice(0, -1)}x` })).status, 401, `${p} with a wrong token`);
    t.equal((await get(`${p}?token=${token}x`)).status, 401, `${p} with a longer one in the query`);
  }
  t.equal((await get('/metrics', { authorization: `Basic ${token}` })).status, 401, 'not as a password');
});

t.test('with the token: in a bearer header or the query', async (t) => {
  const { authed, get, token } = await listener(t);
  for (const p of PATHS.slice(0, -1)) t.equal((await authed(p)).status, 200, p);
  t.equal((await get(`/?token=${token}`)).status, 200, 'the address `vpsfw dashboard` prints');
  t.equal((await authed('/nothing-here')).status, 404);
});

t.test('read-only: GET and HEAD only', async (t) => {
  const { authed, token, get } = await listener(t);
  for (const method of ['POST', 'PUT', 'DELETE']) {
    const r = await get('/api/bans', { authorization: `Bearer ${token}` }, { method });
    t.equal(r.status, 405, method);
    t.equal(r.headers.get('allow'), 'GET, HEAD');
  }
  const head = await get('/metrics', { authorization: `Bearer ${token}` }, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(await head.text(), '');
  t.ok((await authed('/metrics')).ok);
});

t.test('/metrics: the snapshot, in the format asked for', async (t) => {
  const { authed } = await listener(t);
  const text = await authed('/metrics');
  t.match(text.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  t.equal(value(samples(await text.text()), 'vpsfw_bans_active', { family: 'ipv4' }), 2);
  const om = await authed('/metrics', { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' });
  t.match(om.headers.get('content-type'), /^application\/openmetrics-text; version=1\.0\.0/);
  t.match(await om.text(), /# EOF\n$/);
});

t.test('the dashboard\'s data: status (the policy summary in it), newest bans first, events', async (t) => {
  const { authed, emit } = await listener(t);
  t.match(await (await authed('/api/status')).json(), { verdicts: { drop: 480 }, bans: { active: 3 }, policy: { rules: ['web: accept inbound tcp local 80,8000-8100'] } });
  const bans = (await (await authed('/api/bans?limit=2')).json()) as { total: number; bans: BanEntry[]; now: number };
  t.equal(bans.total, 3);
  t.same(bans.bans.map((b) => b.address), ['192.0.2.3', '192.0.2.2'], 'newest first, at most the limit');
  t.ok(Math.abs(bans.now - Date.now()) < 5000, "with the agent's clock");
  emit({ event: 'ban', address: '192.0.2.7', by: 'detector:synFlood' });
  const page = (await (await authed('/api/events?after=0')).json()) as { next: number; events: AgentEvent[] };
  t.match(page, { next: 1, events: [{ event: 'ban', address: '192.0.2.7', seq: 1, time: /^\d{4}-\d\d-\d\dT/ }] });
  t.same(((await (await authed('/api/events?after=1')).json()) as { events: unknown[] }).events, []);
});

t.test('the page: its assets carry the token; headers keep it from leaking or being framed', async (t) => {
  const { authed, token } = await listener(t);
  const r = await authed('/');
  const html = await r.text();
  t.match(r.headers.get('content-type'), /^text\/html/);
  for (const a of ['/assets/uPlot.iife.min.js', '/assets/app.js', '/assets/uPlot.min.css', '/assets/dashboard.css']) t.ok(html.includes(`${a}?token=${token}`), a);
  t.notMatch(html, /https?:\/\//, 'nothing from elsewhere');
  t.match(r.headers.get('content-security-policy'), /default-src 'none'; script-src 'self'/);
  t.equal(r.headers.get('referrer-policy'), 'no-referrer');
  t.equal(r.headers.get('x-frame-options'), 'DENY');
  t.equal(r.headers.get('cache-control'), 'no-store');
  t.match(await (await authed('/assets/app.js')).text(), /api\/status/, 'the compiled page script');
  t.match((await authed('/assets/uPlot.iife.min.js')).headers.get('content-type'), /^text\/javascript/);
});

t.test('a route that fails: 500, and the agent hears of it', async (t) => {
  const { authed, errors } = await listener(t, {
    status: async () => {
      throw new Error('boom');
    },
  });
  t.equal((await authed('/metrics')).status, 500);
  t.match(errors, [{ message: 'boom' }]);
});

t.test('connections from outside http.allowFrom are cut before a byte is read', async (t) => {
  const { authed } = await listener(t, { allowFrom: [parseCidr('192.0.2.0/24')!] });
  await t.rejects(authed('/metrics'), 'loopback is not in 192.0.2.0/24');
});

t.test('a taken address: VPSFW_ERR_HTTP naming it', async (t) => {
  const { http } = await listener(t);
  const port = Number(new URL(http.status.url).port);
  await t.rejects(listener(t, { listen: { host: '127.0.0.1', port, family: 4 } }), { code: 'VPSFW_ERR_HTTP', message: `cannot listen on 127.0.0.1:${port}: the address is in use` });
});

t.test('the self-check at start: a listener this host can reach says nothing; one it cannot, says why', async (t) => {
  const { errors } = await listener(t);
  t.same(errors, [], 'reachable: no error');
  const { probeListener } = await import('../../../agent/src/http/server.js');
  const { http } = await listener(t);
  const port = Number(new URL(http.status.url).port);
  await http.close();
  t.match(await probeListener('127.0.0.1', port), /ECONNREFUSED/, 'a closed port: the reason');
});
