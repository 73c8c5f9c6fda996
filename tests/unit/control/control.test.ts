// The control socket: requests validated, answers and errors carried back, mode 0600, and clear
// messages when nobody listens.
import t from 'tap';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { callDaemon } from '../../../agent/src/control/client.js';
import { closeControl, listenControl } from '../../../agent/src/control/server.js';
import type { Request } from '../../../agent/src/control/protocol.js';

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
  await t.rejects(callDaemon('/nonexistent/none.sock', { cmd: 'status' }), { code: 'VPSFW_ERR_CONTROL_UNAVAILABLE', message: /not running/ });
});
