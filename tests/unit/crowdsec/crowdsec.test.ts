// The CrowdSec side as the daemon drives it: started from the policy, applied again at a reload
// (kept when nothing changed, restarted when the settings or the secret did, stopped when the
// section goes), secrets from files with errors that name the field and the path, and the `ban`
// events of the bus reported by the machine half: every origin but CrowdSec's and the kernel's,
// never a would-ban, nothing while the agent audits.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { banEvent } from '../../../agent/src/bans/events.js';
import type { BanEntry } from '../../../agent/src/bans/store.js';
import { Crowdsec, reportedBan } from '../../../agent/src/crowdsec/crowdsec.js';
import { EventBus } from '../../../agent/src/events/bus.js';
import type { CrowdsecSettings } from '../../../agent/src/policy/schema.js';
import { eventually, FakeSink } from './fakes.js';

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
  const events = new EventBus((err) => {
    throw err;
  });
  const lines: Array<Record<string, unknown>> = [];
  events.on((e) => void lines.push(e));
  const log = { of: (event: string) => lines.filter((l) => l.event === event) };
  let audit = false;
  const cs = new Crowdsec({ bans: new FakeSink(), events, version: '0.1.0', audit: () => audit });
  t.teardown(() => cs.stop());
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const settings = (o: Partial<CrowdsecSettings> = {}): CrowdsecSettings => ({ url: lapi, pollInterval: 10_000, backoffMax: 60_000, timeout: 5000, reportBacklog: 10, ...o });
  const startups = () => requests.filter((r) => r.url.includes('startup=true')).length;
  return { cs, log, events, file, settings, requests, startups, setAudit: (on: boolean) => (audit = on) };
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

const entry = (address: string, o: Partial<BanEntry> = {}): BanEntry => ({ address, family: 4, since: Date.now(), until: Date.now() + 600_000, reason: 'SYN rate', by: 'detector:synFlood', origin: 'agent', offense: 1, ...o });

t.test("the bus's ban events go to the machine: logged in with the password from its file", async (t) => {
  const { cs, events, file, settings, requests } = await setup();
  await cs.apply(settings({ machine: { login: 'web1', passwordFile: file('pw', 'secret-pw') } }));
  events.emit(banEvent(entry('192.0.2.2')));
  await eventually('the alert', () => requests.some((r) => r.url === '/v1/alerts'));
  t.match(JSON.parse(requests.find((r) => r.url === '/v1/watchers/login')!.body), { machine_id: 'web1', password: 'secret-pw' });
  t.match(JSON.parse(requests.find((r) => r.url === '/v1/alerts')!.body), [{ scenario: 'vpsfw/synFlood', source: { ip: '192.0.2.2' }, decisions: [{ duration: '600s' }] }]);
  t.notOk(requests.some((r) => r.url.includes('decisions')), 'no bouncer key: no decisions pulled');
  t.match(cs.status(), { bouncer: null, machine: { login: 'web1' } });
});

t.test('every source of bans is reported; CrowdSec and kernel bans, would-bans and bans made in audit mode are not', async (t) => {
  const { cs, events, file, settings, requests, setAudit } = await setup();
  await cs.apply(settings({ machine: { login: 'web1', passwordFile: file('pw', 'pw') } }));
  events.emit(banEvent(entry('192.0.2.1', { by: 'ratelimit:ssh' })));
  events.emit(banEvent(entry('192.0.2.2', { by: 'control', origin: 'control', reason: 'manual' })));
  events.emit(banEvent(entry('192.0.2.3', { by: 'log:sshd', origin: 'log', reason: '5 failures' })));
  events.emit(banEvent(entry('192.0.2.4', { by: 'crowdsec', origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf' })));
  events.emit(banEvent(entry('192.0.2.5', { by: 'kernel', origin: 'kernel' })));
  events.emit({ ...banEvent(entry('192.0.2.6')), event: 'would-ban', msg: 'would ban 192.0.2.6' });
  setAudit(true);
  events.emit(banEvent(entry('192.0.2.7', { by: 'log:sshd', origin: 'log' })));
  setAudit(false);
  await eventually('three alerts sent', () => cs.status()?.machine?.sent === 3);
  const sent = requests.filter((r) => r.url === '/v1/alerts').flatMap((r) => (JSON.parse(r.body) as Array<{ scenario: string; source: { ip: string } }>).map((a) => [a.source.ip, a.scenario]));
  t.same(sent, [['192.0.2.1', 'vpsfw/ratelimit:ssh'], ['192.0.2.2', 'vpsfw/manual'], ['192.0.2.3', 'vpsfw/log:sshd']]);
  t.match(cs.status(), { machine: { sent: 3, skipped: 2, queued: 0 } }, "CrowdSec's and the kernel's counted as skipped");
});

t.test('a ban event read back as the ban it tells of', async (t) => {
  const e = entry('198.51.100.0/24', { since: 1_000_000, until: 1_000_000 + 5_400_000, origin: 'control', by: 'control', reason: 'abuse' });
  t.same(reportedBan(banEvent(e), 0), { address: '198.51.100.0/24', by: 'control', origin: 'control', reason: 'abuse', since: 1_000_000, until: 1_000_000 + 5_400_000 });
  t.equal(reportedBan({ event: 'ban', level: 'warn', msg: 'x', address: '192.0.2.1' }, 0), null, 'not a ban event of bans/events.ts');
  t.equal(reportedBan({ ...banEvent(e), origin: 'elsewhere' }, 0), null, 'an origin the store does not know');
});
