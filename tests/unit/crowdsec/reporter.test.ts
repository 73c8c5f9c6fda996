// The alert reporter against a scripted LAPI: the agent's own bans become alerts with their
// decisions (scenario names, source, count, window, duration), CrowdSec's never do (no echo), the
// JWT is reused, renewed and re-fetched when refused, and an outage keeps a bounded backlog,
// logged once, sent in order when the LAPI is back; `report` never waits.
import t from 'tap';
import { alertOf, rfc3339, scenarioOf, type ReportedBan } from '../../../agent/src/crowdsec/alert.js';
import type { LapiAlert } from '../../../agent/src/crowdsec/lapi-client.js';
import { LapiError } from '../../../agent/src/crowdsec/lapi-error.js';
import { AlertReporter } from '../../../agent/src/crowdsec/reporter.js';
import { eventually, manualDelay, recordingEvents } from './fakes.js';

const T0 = Date.parse('2026-12-01T10:00:00.700Z');
const ban = (address: string, o: Partial<ReportedBan> = {}): ReportedBan => ({ address, since: T0, until: T0 + 600_000, reason: 'SYN rate 52/s over 20/s', by: 'detector:synFlood', origin: 'agent', ...o });

t.test('scenario names', async (t) => {
  t.equal(scenarioOf('detector:synFlood'), 'vpsfw/synFlood');
  t.equal(scenarioOf('detector:portScan'), 'vpsfw/portScan');
  t.equal(scenarioOf('payload:no-passwd'), 'vpsfw/payload:no-passwd');
  t.equal(scenarioOf('ratelimit:ssh'), 'vpsfw/ratelimit:ssh');
  t.equal(scenarioOf('control'), 'vpsfw/manual');
  t.equal(scenarioOf('log:sshd'), 'vpsfw/log:sshd');
});

t.test('an alert as CrowdSec takes it', async (t) => {
  const a = alertOf(ban('192.0.2.2', { until: T0 + 600_900 }), '0.1.0', { events: 41, firstSeen: T0 - 2000 });
  t.match(a, {
    scenario: 'vpsfw/synFlood',
    scenario_version: '0.1.0',
    events_count: 41,
    start_at: '2026-12-01T09:59:58Z',
    stop_at: '2026-12-01T10:00:00Z',
    simulated: false,
    source: { scope: 'Ip', value: '192.0.2.2', ip: '192.0.2.2' },
    decisions: [{ origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '192.0.2.2', duration: '600s', scenario: 'vpsfw/synFlood' }],
  });
  t.match(a.message, /Ip 192\.0\.2\.2 performed 'vpsfw\/synFlood' \(41 events over 2s\).*SYN rate/);
  t.match(alertOf(ban('203.0.113.0/24'), 'v'), { source: { scope: 'Range', range: '203.0.113.0/24' }, decisions: [{ scope: 'Range' }], events_count: 1 }, 'a network as a Range');
  t.equal(rfc3339(T0), '2026-12-01T10:00:00Z');
});

function setup(opts: { backlog?: number; push?: (alerts: readonly LapiAlert[], token: string) => Promise<string[]>; login?: () => Promise<{ token: string; expiresAt: number }> } = {}) {
  const pushed: Array<{ token: string; alerts: readonly LapiAlert[] }> = [];
  let logins = 0;
  let now = T0;
  const client = {
    url: 'http://lapi/',
    login: async () => {
      logins++;
      return opts.login ? opts.login() : { token: `jwt${logins}`, expiresAt: now + 3_600_000 };
    },
    pushAlerts: async (token: string, alerts: readonly LapiAlert[]) => {
      const ids = opts.push ? await opts.push(alerts, token) : alerts.map((_, i) => String(i));
      pushed.push({ token, alerts });
      return ids;
    },
  };
  const log = recordingEvents();
  const d = manualDelay();
  const r = new AlertReporter({ client, login: 'web1', password: 'pw', passwordFile: '/etc/vpsfw/pw', version: '0.1.0', emit: log.emit, now: () => now, delay: d.delay }, { backlog: opts.backlog ?? 100, retryMs: 10_000, backoffMaxMs: 60_000 });
  t.teardown(() => r.stop());
  return { r, pushed, log, d, logins: () => logins, advance: (ms: number) => (now += ms) };
}

t.test("the agent's bans are sent; CrowdSec's and the kernel's are not", async (t) => {
  const { r, pushed, logins } = setup();
  r.report(ban('192.0.2.2'));
  r.report(ban('192.0.2.3', { origin: 'crowdsec', by: 'crowdsec' }));
  r.report(ban('192.0.2.4', { origin: 'kernel', by: 'kernel' }));
  r.report(ban('192.0.2.5', { origin: 'control', by: 'control', reason: 'manual' }));
  await eventually('sent', () => r.status().sent === 2);
  t.same(pushed.flatMap((p) => p.alerts.map((a) => [a.source.value, a.scenario])), [['192.0.2.2', 'vpsfw/synFlood'], ['192.0.2.5', 'vpsfw/manual']]);
  t.match(r.status(), { state: 'ok', sent: 2, skipped: 2, queued: 0 });
  t.equal(logins(), 1);
});

t.test('the token: reused, renewed before it ends, fetched again when refused', async (t) => {
  let refuse = false;
  const { r, pushed, logins, advance } = setup({
    push: async (_a, token) => {
      if (refuse && token === 'jwt2') {
        refuse = false;
        throw new LapiError('VPSFW_ERR_CROWDSEC_AUTH', 'POST http://lapi/v1/alerts', 401, '401 Unauthorized');
      }
      return [];
    },
  });
  r.report(ban('192.0.2.2'));
  await eventually('one', () => r.status().sent === 1);
  r.report(ban('192.0.2.3'));
  await eventually('two', () => r.status().sent === 2);
  t.equal(logins(), 1, 'reused');
  advance(3_600_000 - 30_000);
  refuse = true;
  r.report(ban('192.0.2.4'));
  await eventually('three', () => r.status().sent === 3);
  t.equal(logins(), 3, 'renewed near its end, then again when the LAPI refused it');
  t.same(pushed.map((p) => p.token), ['jwt1', 'jwt1', 'jwt3']);
});

t.test('an outage: a bounded backlog, one line, in order when it is back; report never waits', async (t) => {
  let down = true;
  const { r, pushed, log, d } = setup({
    backlog: 3,
    push: async () => {
      if (down) throw new LapiError('VPSFW_ERR_CROWDSEC_UNREACHABLE', 'POST http://lapi/v1/alerts', 0, 'no answer (ECONNREFUSED)', '', { mayHaveArrived: false });
      return [];
    },
  });
  r.report(ban('192.0.2.1'));
  await eventually('first wait', () => d.waits.length === 1);
  for (const n of [2, 3, 4, 5]) r.report(ban(`192.0.2.${n}`));
  t.match(r.status(), { state: 'unreachable', queued: 3, dropped: 2 }, 'the oldest dropped, counted');
  d.next();
  await eventually('second wait', () => d.waits.length === 2);
  t.same(d.waits, [10_000, 20_000], 'doubling');
  t.equal(log.of('crowdsec-unreachable').length, 1, 'one line');
  t.equal(log.of('crowdsec-alerts-dropped').length, 1, 'one line for the drops');
  down = false;
  d.next();
  await eventually('sent', () => r.status().sent === 3);
  t.same(pushed.flatMap((p) => p.alerts.map((a) => a.source.value)), ['192.0.2.3', '192.0.2.4', '192.0.2.5'], 'the newest three, in order');
  t.match(log.of('crowdsec-reachable'), [{ role: 'machine' }]);
});

t.test('a refused password: one clear error naming the login and the file', async (t) => {
  const { r, log, d } = setup({ login: async () => Promise.reject(new LapiError('VPSFW_ERR_CROWDSEC_AUTH', 'POST http://lapi/v1/watchers/login', 403, '403 Forbidden', '{"code":403,"message":"incorrect Username or Password"}')) });
  r.report(ban('192.0.2.1'));
  await eventually('a wait', () => d.waits.length === 1);
  d.next();
  await eventually('a second wait', () => d.waits.length === 2);
  t.equal(log.of('crowdsec-auth-failed').length, 1);
  t.match(log.of('crowdsec-auth-failed')[0], { role: 'machine', login: 'web1', passwordFile: '/etc/vpsfw/pw', msg: /refused machine web1 with the password in \/etc\/vpsfw\/pw/ });
  t.match(r.status(), { state: 'unauthorized', queued: 1 });
});
