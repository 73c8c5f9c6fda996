// The CrowdSec side as the daemon drives it: started from the policy, applied again at a reload
// (kept when nothing changed, restarted when the settings or the secret did, stopped when the
// section goes), secrets from files with errors that name the field and the path, and a report
// reaching the machine half only.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Crowdsec } from '../../../agent/src/crowdsec/crowdsec.js';
import type { CrowdsecSettings } from '../../../agent/src/policy/schema.js';
import { eventually, FakeSink, recordingLog } from './fakes.js';

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-cs-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const requests: Array<{ url: string; key: string | null; auth: string | null; body: string }> = [];
  // A LAPI on loopback that answers what the agent asks.
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', key: (req.headers['x-api-key'] as string) ?? null, auth: req.headers.authorization ?? null, body });
      if (req.url === '/v1/watchers/login') return res.end(JSON.stringify({ code: 200, expire: '2099-01-01T00:00:00Z', token: 'jwt' }));
      if (req.url === '/v1/alerts') return res.writeHead(201).end('["1"]');
      res.end('{"deleted":null,"new":null}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  const lapi = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const log = recordingLog();
  const cs = new Crowdsec({ sink: new FakeSink(), log, version: '0.1.0' });
  t.teardown(() => cs.stop());
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const settings = (o: Partial<CrowdsecSettings> = {}): CrowdsecSettings => ({ url: lapi, pollInterval: 10_000, backoffMax: 60_000, timeout: 5000, reportBacklog: 10, ...o });
  const startups = () => requests.filter((r) => r.url.includes('startup=true')).length;
  return { cs, log, file, settings, requests, startups };
}

t.test('start, reload unchanged, reload with a new key, stop', async (t) => {
  const { cs, file, settings, requests, startups } = await setup();
  const key = file('key', 'key-one\n');
  await cs.apply(settings({ bouncerKeyFile: key }));
  await eventually('the start-up pull', () => startups() === 1);
  t.equal(requests[0]!.key, 'key-one', 'the key from the file, trimmed');
  await cs.apply(settings({ bouncerKeyFile: key }));
  t.equal(startups(), 1, 'nothing changed: the follower runs on');
  file('key', 'key-two');
  await cs.apply(settings({ bouncerKeyFile: key }));
  await eventually('a new start-up pull', () => startups() === 2);
  t.equal(requests.at(-1)!.key, 'key-two', 'a new key: restarted with it');
  await eventually('the pull done', () => cs.status()?.bouncer?.state === 'ok');
  t.match(cs.status(), { bouncer: { state: 'ok', pulls: 1 }, machine: null });
  await cs.apply(undefined);
  t.equal(cs.status(), null, 'the section gone: stopped');
});

t.test('secrets: a missing or empty file is an error naming the field and the path; the old part keeps running', async (t) => {
  const { cs, log, file, settings, startups } = await setup();
  await cs.apply(settings({ bouncerKeyFile: '/nonexistent/key' }));
  t.match(log.of('crowdsec-error'), [{ code: 'VPSFW_ERR_CROWDSEC_SECRET', err: 'crowdsec.bouncerKeyFile: cannot read /nonexistent/key (ENOENT)' }]);
  t.equal(cs.status(), null, 'nothing started');
  const key = file('key', 'k');
  await cs.apply(settings({ bouncerKeyFile: key }));
  await eventually('the pull', () => cs.status()?.bouncer?.state === 'ok');
  const empty = file('empty', '  \n');
  await cs.apply(settings({ bouncerKeyFile: empty }));
  t.match(log.of('crowdsec-error')[1], { err: `crowdsec.bouncerKeyFile: ${empty} is empty` });
  t.match(cs.status(), { bouncer: { state: 'ok' } }, 'the running follower stays');
  await cs.apply(settings({ machine: { login: 'web1', passwordFile: '/nonexistent/pw' } }));
  t.match(log.of('crowdsec-error')[2], { err: 'crowdsec.machine.passwordFile: cannot read /nonexistent/pw (ENOENT)' });
});

t.test('reports go to the machine: logged in with the password from its file', async (t) => {
  const { cs, file, settings, requests } = await setup();
  await cs.apply(settings({ machine: { login: 'web1', passwordFile: file('pw', 'secret-pw') } }));
  cs.report({ address: '192.0.2.2', since: Date.now(), until: Date.now() + 600_000, reason: 'SYN rate', by: 'detector:synFlood', origin: 'agent' });
  await eventually('the alert', () => requests.some((r) => r.url === '/v1/alerts'));
  t.match(JSON.parse(requests.find((r) => r.url === '/v1/watchers/login')!.body), { machine_id: 'web1', password: 'secret-pw' });
  t.match(JSON.parse(requests.find((r) => r.url === '/v1/alerts')!.body), [{ scenario: 'vpsfw/synFlood', source: { ip: '192.0.2.2' } }]);
  t.notOk(requests.some((r) => r.url.includes('decisions')), 'no bouncer key: no decisions pulled');
  t.match(cs.status(), { bouncer: null, machine: { login: 'web1' } });
});
