// The control socket: requests validated, answers and errors carried back, mode 0600, and clear
// messages when nobody listens.
import t from 'tap';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { callDaemon } from '../../../agent/src/control/client.js';
import { closeControl, listenControl } from '../../../agent/src/control/server.js';
import { parseRequest, type Request } from '../../../agent/src/control/protocol.js';

async function server(t: Parameters<Parameters<typeof t.test>[1]>[0], handle: (r: Request) => Promise<unknown>) {
  // Short: a unix socket path has at most 107 bytes, and tap's fixture directories are long.
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'c.sock');
  const s = await listenControl(path, handle);
  t.teardown(() => closeControl(s, path));
  return path;
}

t.test('a request and its answer; the socket is 0600', async (t) => {
  const seen: Request[] = [];
  const path = await server(t, async (r) => (seen.push(r), { pong: r.cmd }));
  t.same(await callDaemon(path, { cmd: 'status' }), { pong: 'status' });
  t.same(await callDaemon(path, { cmd: 'ban', address: '2001:db8::1', durationMs: 60_000, reason: 'r' }), { pong: 'ban' });
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.equal(seen.length, 2);
});

t.test('a handler error comes back with its code', async (t) => {
  const path = await server(t, async () => {
    throw Object.assign(new Error('nope'), { code: 'VPSFW_ERR_USAGE' });
  });
  await t.rejects(callDaemon(path, { cmd: 'reload' }), { code: 'VPSFW_ERR_USAGE', message: 'nope' });
});

t.test('bad requests are refused without reaching the handler', async (t) => {
  let called = false;
  const path = await server(t, async () => (called = true));
  const raw = (line: string) =>
    new Promise<string>((resolve) => {
      const s = createConnection(path, () => s.write(line));
      let buf = '';
      s.on('data', (d) => (buf += d));
      s.on('end', () => resolve(buf));
    });
  t.match(JSON.parse(await raw('not json\n')), { ok: false, error: { code: 'VPSFW_ERR_CONTROL_PROTOCOL' } });
  t.match(JSON.parse(await raw('{"cmd":"ban","address":"999.1.1.1","durationMs":null,"reason":""}\n')), { ok: false, error: { message: /address/ } });
  t.match(JSON.parse(await raw('{"cmd":"format-disk"}\n')), { ok: false });
  t.equal(called, false);
});

t.test('a socket path too long for the kernel is an error that says so', async (t) => {
  await t.rejects(listenControl('/tmp/' + 'x'.repeat(120), async () => 0), { message: /too long/ });
});

t.test('nobody listening: a message that says the daemon is not running', async (t) => {
  await t.rejects(callDaemon('/nonexistent/none.sock', { cmd: 'status' }), { code: 'VPSFW_ERR_NOT_RUNNING', message: /not running/ });
});

t.test('permission denied on the socket: says so, and that it is not "not running"', async (t) => {
  // Root is never refused by a socket's mode: the refusal is given by a stand-in connection.
  const { EventEmitter } = await import('node:events');
  const { callDaemon: call } = await t.mockImport<typeof import('../../../agent/src/control/client.js')>('../../../agent/src/control/client.js', {
    'node:net': {
      createConnection: () => {
        const s = Object.assign(new EventEmitter(), { setEncoding() {}, setTimeout() {}, write() {}, destroy() {} });
        setImmediate(() => s.emit('error', Object.assign(new Error('connect EACCES /run/vpsfw/control.sock'), { code: 'EACCES' })));
        return s;
      },
    },
  });
  await t.rejects(call('/run/vpsfw/control.sock', { cmd: 'status' }), {
    code: 'VPSFW_ERR_CONTROL_UNAVAILABLE',
    message: 'permission denied on /run/vpsfw/control.sock: the control socket is for root only (try sudo)',
  });
});

t.test('parseRequest: each command and field, good and bad, the message naming the field and value', async (t) => {
  const good: unknown[] = [
    { cmd: 'status' },
    { cmd: 'bans' },
    { cmd: 'reload' },
    { cmd: 'ban', address: '192.0.2.1', durationMs: null, reason: '' },
    { cmd: 'ban', address: '2001:db8::1', durationMs: 1000, reason: 'x'.repeat(200) },
    { cmd: 'unban', address: '::ffff:192.0.2.1' },
  ];
  for (const r of good) t.same(parseRequest(r), { ok: true, request: r }, JSON.stringify(r));
  const bad: Array<[unknown, RegExp]> = [
    [null, /^request: expected an object/],
    [[], /^request: expected an object/],
    [{}, /^cmd: expected one of status, bans, reload, ban, unban \(got undefined\)/],
    [{ cmd: 'toString' }, /^cmd: .*\(got "toString"\)/],
    [{ cmd: 'status', extra: 1 }, /^request: unknown key "extra"/],
    [{ cmd: 'unban', address: '999.1.1.1' }, /^address: expected an IPv4 or IPv6 address \(got "999.1.1.1"\)/],
    [{ cmd: 'unban' }, /^address: .*\(got undefined\)/],
    [{ cmd: 'ban', address: '192.0.2.1', durationMs: 0, reason: '' }, /^durationMs: .*\(got 0\)/],
    [{ cmd: 'ban', address: '192.0.2.1', durationMs: 1.5, reason: '' }, /^durationMs: .*\(got 1.5\)/],
    [{ cmd: 'ban', address: '192.0.2.1', reason: '' }, /^durationMs: .*\(got undefined\)/],
    [{ cmd: 'ban', address: '192.0.2.1', durationMs: null, reason: 'x'.repeat(201) }, /^reason: expected text of at most 200 characters/],
    [{ cmd: 'ban', address: '192.0.2.1', durationMs: null, reason: 7 }, /^reason: .*\(got 7\)/],
  ];
  for (const [r, message] of bad) {
    const p = parseRequest(r);
    t.match(p, { ok: false, message }, JSON.stringify(r));
  }
});

t.test("askStatus: the kernel's queue table read by the root CLI when the agent could not read it", async (t) => {
  const { askStatus } = await import('../../../agent/src/cli/client-command.js');
  const { fakeStatus } = await import('../../lib/status.js');
  const counters = { inQueue: 1, queueDropped: 2, userDropped: 3, idSequence: 4 };
  const asked: number[] = [];
  const readQueue = (num: number) => (asked.push(num), counters);
  const unread = await server(t, async () => fakeStatus({ queue: { ...fakeStatus().queue, num: 7, kernel: null } }));
  t.same((await askStatus({ control: unread }, undefined, readQueue)).queue.kernel, counters, 'filled in');
  t.same(asked, [7], 'for the agent\'s queue');
  const read = await server(t, async () => fakeStatus());
  t.same((await askStatus({ control: read }, undefined, readQueue)).queue.kernel, fakeStatus().queue.kernel, "the agent's own reading kept");
  t.same(asked, [7], 'and the table not read again');
});

t.test('a call abandoned by its signal closes the socket and rejects at once', async (t) => {
  const path = await server(t, () => new Promise(() => undefined));
  const abandon = new AbortController();
  const call = callDaemon(path, { cmd: 'status' }, 60_000, abandon.signal);
  setTimeout(() => abandon.abort(), 50);
  await t.rejects(call, { message: /abandoned/ });
});
