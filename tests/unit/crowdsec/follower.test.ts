// The decisions follower against a scripted LAPI: the start-up pull then deltas, bans with what
// the decision has left, lifts of CrowdSec's own bans only, other types logged once, the outage
// (doubling waits, one line, catch-up with a full pull when an answer may have been lost), a
// refused key, and a bulk load that goes in batches with turns of the event loop between them.
import t from 'tap';
import type { StreamedDecision } from '../../../agent/src/crowdsec/stream-parser.js';
import { DecisionFollower } from '../../../agent/src/crowdsec/follower.js';
import { LapiError } from '../../../agent/src/crowdsec/lapi-error.js';
import { eventually, FakeSink, manualDelay, recordingEvents } from './fakes.js';

type Answer = StreamedDecision[] | LapiError;
const dec = (list: string, value: string, o: object = {}): StreamedDecision => ({ list, decision: { id: 1, origin: 'cscli', type: 'ban', scope: value.includes('/') ? 'Range' : 'Ip', value, duration: '1h0m0.9s', scenario: 'crowdsecurity/ssh-bf', ...o } });
const unreachable = (arrived: boolean) => new LapiError('VPSFW_ERR_CROWDSEC_UNREACHABLE', 'GET http://lapi/v1/decisions/stream', 0, 'no answer (ECONNREFUSED)', '', { mayHaveArrived: arrived });

function setup(answers: Answer[], opts: { allowlisted?: string[]; batch?: number } = {}) {
  const calls: boolean[] = [];
  const client = {
    url: 'http://lapi/',
    async *decisionsStream(_key: string, startup: boolean) {
      calls.push(startup);
      const a = answers.shift() ?? [];
      if (a instanceof LapiError) throw a;
      // In pieces of two, as a body arrives in chunks.
      for (let i = 0; i < a.length; i += 2) yield a.slice(i, i + 2);
    },
  };
  const sink = new FakeSink(new Set(opts.allowlisted ?? []));
  const log = recordingEvents();
  const d = manualDelay();
  const f = new DecisionFollower({ client, apiKey: 'k', keyFile: '/etc/vpsfw/key', sink, emit: log.emit, now: () => 1_000_000, delay: d.delay }, { pollMs: 10_000, backoffMaxMs: 60_000, ...(opts.batch ? { batch: opts.batch } : {}) });
  t.teardown(() => f.stop());
  return { f, sink, log, d, calls };
}

t.test('start-up pull, then deltas: bans, lifts, ignored kinds once', async (t) => {
  const { f, sink, log, d, calls } = setup([
    [dec('new', '192.0.2.7'), dec('new', '2001:DB8::5'), dec('new', '203.0.113.9/24'), dec('new', '198.51.100.1', { type: 'captcha' }), dec('deleted', '192.0.2.99', { duration: '-1s' })],
    [dec('deleted', '192.0.2.7', { duration: '-2ms' }), dec('new', '198.51.100.2', { type: 'captcha' }), dec('new', '198.51.100.3')],
  ]);
  f.start();
  await eventually('the first wait', () => d.waits.length === 1);
  t.same(calls, [true], 'the first pull is a full one');
  t.same([...sink.bans.keys()].sort(), ['192.0.2.7', '2001:db8::5', '203.0.113.0/24']);
  t.match(sink.bans.get('192.0.2.7'), { origin: 'crowdsec', by: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', until: 1_000_000 + 3_600_000 }, 'with what the decision has left, in whole seconds rounded down');
  t.match(log.of('crowdsec-sync'), [{ full: true, banned: 3, ignored: 1, lifted: 0 }], 'a full pull: one summary line');
  t.equal(sink.bulks, 1, 'and one bulk load for the store');
  t.equal(sink.bulkBans, 3, 'its bans made without an entry each');
  t.equal(log.of('ban').length, 0, 'not a line per ban');
  t.equal(d.waits[0], 10_000, 'then the poll interval');
  d.next();
  await eventually('the second wait', () => d.waits.length === 2);
  t.same(calls, [true, false], 'then deltas');
  t.equal(sink.bulks, 1, 'a delta is no bulk load');
  t.equal(sink.bulkBans, 3, 'its bans made by ban(), an entry each for its lines');
  t.notOk(sink.bans.has('192.0.2.7'), 'a deleted decision is lifted');
  t.match(log.of('unban'), [{ address: '192.0.2.7', origin: 'crowdsec' }], 'with an unban line');
  t.match(log.of('ban'), [{ address: '198.51.100.3', origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', duration: '1h' }], 'a delta: a line per ban (the ban event of every origin)');
  t.equal(log.of('crowdsec-ignored').length, 1, 'captcha logged once over both pulls');
  t.match(f.status(), { state: 'ok', pulls: 2, decisions: { banned: 4, lifted: 1, ignored: 2 } });
});

t.test('a deleted decision never lifts a ban the agent made', async (t) => {
  const { f, sink, d } = setup([[], [dec('deleted', '192.0.2.7', { duration: '-1s' })]]);
  sink.bans.set('192.0.2.7', { address: '192.0.2.7', family: 4, since: 0, until: 9e12, reason: 'SYN rate', by: 'detector:synFlood', origin: 'agent', offense: 1 });
  f.start();
  await eventually('a wait', () => d.waits.length === 1);
  d.next();
  await eventually('a second wait', () => d.waits.length === 2);
  t.ok(sink.bans.has('192.0.2.7'));
});

t.test('the allowlist wins; refusals are counted, and logged in deltas', async (t) => {
  const { f, sink, log, d } = setup([[dec('new', '192.0.2.2')], [dec('new', '192.0.2.3'), dec('new', '0.0.0.0')]], { allowlisted: ['192.0.2.2', '192.0.2.3'] });
  f.start();
  await eventually('a wait', () => d.waits.length === 1);
  d.next();
  await eventually('a second wait', () => d.waits.length === 2);
  t.equal(sink.bans.size, 0);
  t.match(log.of('ban-refused'), [{ address: '192.0.2.3', why: 'allowlisted' }, { address: '0.0.0.0', why: 'unspecified' }]);
  t.match(f.status().decisions, { allowlisted: 2, refused: 1 });
});

t.test('an outage: bans stay, doubling waits, one line, back with one line and a full pull', async (t) => {
  const { f, sink, log, d, calls } = setup([[dec('new', '192.0.2.7')], unreachable(true), unreachable(false), unreachable(false), unreachable(false), unreachable(false), [dec('new', '192.0.2.8')], []]);
  f.start();
  for (let i = 1; i <= 7; i++) {
    await eventually(`wait ${i}`, () => d.waits.length === i);
    d.next();
  }
  await eventually('wait 8', () => d.waits.length === 8);
  t.same(d.waits, [10_000, 10_000, 20_000, 40_000, 60_000, 60_000, 10_000, 10_000], 'from the poll interval, doubling, capped at backoffMax');
  t.equal(log.of('crowdsec-unreachable').length, 1, 'one line for the whole outage');
  t.match(log.of('crowdsec-unreachable')[0], { level: 'warn', role: 'bouncer', url: 'http://lapi/', retryInMs: 10_000 });
  t.match(log.of('crowdsec-reachable'), [{ level: 'info', role: 'bouncer' }], 'one when it is back');
  t.ok(sink.bans.has('192.0.2.7'), 'what was enforced stayed');
  t.same(calls, [true, false, true, true, true, true, true, false], 'after an answer that may have been lost, full pulls until one works; then deltas');
  t.ok(sink.bans.has('192.0.2.8'), 'and caught up');
});

t.test('refused connections only: the catch-up is a delta', async (t) => {
  const { f, d, calls } = setup([[], unreachable(false), []]);
  f.start();
  for (let i = 1; i <= 2; i++) {
    await eventually(`wait ${i}`, () => d.waits.length === i);
    d.next();
  }
  await eventually('wait 3', () => d.waits.length === 3);
  t.same(calls, [true, false, false], 'the LAPI saw nothing: its mark did not move');
});

t.test('a refused key: one clear error naming the file, state unauthorized, retried', async (t) => {
  const refused = () => new LapiError('VPSFW_ERR_CROWDSEC_AUTH', 'GET http://lapi/v1/decisions/stream', 403, '403 Forbidden', '{"message":"access forbidden"}');
  const { f, log, d } = setup([refused(), refused(), refused()]);
  f.start();
  for (let i = 1; i <= 2; i++) {
    await eventually(`wait ${i}`, () => d.waits.length === i);
    d.next();
  }
  await eventually('wait 3', () => d.waits.length === 3);
  t.equal(log.of('crowdsec-auth-failed').length, 1, 'once');
  t.match(log.of('crowdsec-auth-failed')[0], { level: 'error', keyFile: '/etc/vpsfw/key', status: 403, msg: /refused the bouncer key in \/etc\/vpsfw\/key .*403 Forbidden.*cscli bouncers add/ });
  t.equal(f.status().state, 'unauthorized');
});

t.test('a bulk load: batches, each flushed to the kernel, with turns of the event loop between', async (t) => {
  const many = Array.from({ length: 2500 }, (_, i) => dec('new', `10.${i >> 8}.${i & 255}.1`));
  const { f, sink, d } = setup([many], { batch: 500 });
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  f.start();
  await eventually('the pull', () => d.waits.length === 1);
  ticking = false;
  t.equal(sink.bans.size, 2500);
  t.ok(sink.flushes >= 5, `flushed after each batch (${sink.flushes})`);
  t.ok(turns >= 4, `the event loop turned between the batches (${turns})`);
});

t.test('stop: the loop ends, the bans stay', async (t) => {
  const { f, sink, d } = setup([[dec('new', '192.0.2.7')]]);
  f.start();
  await eventually('a wait', () => d.waits.length === 1);
  await f.stop();
  t.ok(sink.bans.has('192.0.2.7'));
});
