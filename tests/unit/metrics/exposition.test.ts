// /metrics from a status snapshot: the names, labels and types docs/observability.md promises,
// values equal to the snapshot's, OpenMetrics when asked for, and promtool (Prometheus' own
// linter) finds nothing to say.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { Exposition, OPENMETRICS_TYPE, PROMETHEUS_TYPE, wantsOpenMetrics } from '../../../agent/src/metrics/exposition.js';
import { families, samples, value } from '../../lib/exposition.js';
import { fakeStatus } from '../../lib/status.js';

const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

t.test('names, labels and values are the snapshot\'s', async (t) => {
  const r = await new Exposition().render(fakeStatus(), undefined);
  t.equal(r.type, PROMETHEUS_TYPE);
  const s = samples(r.body);
  t.equal(value(s, 'vpsfw_verdicts_total', { action: 'drop', by: 'default:inbound' }), 300);
  t.equal(value(s, 'vpsfw_verdicts_total', { action: 'drop', by: 'detector:synFlood' }), 180);
  t.equal(value(s, 'vpsfw_verdicts_total', { action: 'reject', by: 'payload:no-passwd' }), 20);
  t.equal(value(s, 'vpsfw_verdicts_total', { action: 'accept', by: 'rule:web' }), 1000);
  t.equal(s.filter((x) => x.name === 'vpsfw_verdicts_total').length, 4, 'one series per decider and action');
  t.equal(value(s, 'vpsfw_bans_active', { family: 'ipv4' }), 2);
  t.equal(value(s, 'vpsfw_bans_active', { family: 'ipv6' }), 1);
  t.equal(value(s, 'vpsfw_bans_total', { by: 'detector:synFlood', origin: 'agent' }), 2);
  t.equal(value(s, 'vpsfw_bans_total', { by: 'control', origin: 'control' }), 1);
  t.equal(value(s, 'vpsfw_bans_ended_total', { reason: 'lifted' }), 1);
  t.equal(value(s, 'vpsfw_bans_ended_total', { reason: 'allowlisted' }), 0);
  t.equal(value(s, 'vpsfw_queue_packets_total'), 1500);
  t.equal(value(s, 'vpsfw_queue_unjudged_total', { fail_mode: 'closed' }), 7);
  t.equal(value(s, 'vpsfw_queue_kernel_drops_total', { cause: 'queue_full' }), 5);
  t.equal(value(s, 'vpsfw_queue_kernel_drops_total', { cause: 'socket_full' }), 2);
  t.equal(value(s, 'vpsfw_queue_waiting'), 0);
  t.equal(value(s, 'vpsfw_queue_overflowing'), 0);
  t.equal(value(s, 'vpsfw_observed_total', { by: 'detector:portScan' }), 10, 'what NFLOG showed the detectors');
  t.equal(value(s, 'vpsfw_kernel_rule_packets_total', { by: 'default:inbound' }), 640, 'what the kernel decided itself');
  t.equal(value(s, 'vpsfw_kernel_rule_packets_total', { by: 'rule:web' }), 1200);
  t.equal(value(s, 'vpsfw_kernel_drops_total', { reason: 'banned' }), 9000);
  t.equal(value(s, 'vpsfw_kernel_drops_total', { reason: 'banned_network' }), 40);
  t.equal(value(s, 'vpsfw_kernel_drops_total', { reason: 'denied' }), 12);
  t.equal(value(s, 'vpsfw_kernel_drops_total', { reason: 'per_source_bound' }), 3);
  t.equal(value(s, 'vpsfw_kernel_queued_total'), 1507);
  t.equal(value(s, 'vpsfw_reloads_total', { result: 'accepted' }), 2);
  t.equal(value(s, 'vpsfw_reloads_total', { result: 'rejected' }), 1);
  t.equal(value(s, 'vpsfw_detector_hits_total', { detector: 'synFlood' }), 180);
  t.equal(value(s, 'vpsfw_detector_hits_total', { detector: 'portScan' }), 10);
  t.equal(value(s, 'vpsfw_payload_matches_total', { rule: 'no-passwd' }), 20);
  t.equal(value(s, 'vpsfw_log_lines_suppressed_total'), 55);
  t.equal(value(s, 'vpsfw_policy_info', { hash: 'abcdef0123456789', source: '/etc/vpsfw/policy.json' }), 1);
  t.equal(value(s, 'vpsfw_build_info', { version: '0.1.0' }), 1);
  t.equal(value(s, 'vpsfw_audit_mode'), 0, 'enforcing');
  t.equal(value(s, 'vpsfw_memory_bytes', { area: 'rss' }), 60_000_000);
  t.equal(value(s, 'vpsfw_event_loop_delay_p99_seconds'), 0.00425);
  t.equal(value(s, 'vpsfw_tracked_flows'), 3);
  t.ok(Math.abs(value(s, 'vpsfw_start_time_seconds')! - (Date.now() / 1000 - 120)) < 5, 'start time: now less the uptime');
});

t.test('types', async (t) => {
  const f = families((await new Exposition().render(fakeStatus(), undefined)).body);
  for (const c of ['vpsfw_verdicts_total', 'vpsfw_bans_total', 'vpsfw_bans_ended_total', 'vpsfw_queue_packets_total', 'vpsfw_queue_unjudged_total', 'vpsfw_queue_kernel_drops_total', 'vpsfw_observed_total', 'vpsfw_kernel_rule_packets_total', 'vpsfw_kernel_drops_total', 'vpsfw_kernel_queued_total', 'vpsfw_reloads_total', 'vpsfw_detector_hits_total', 'vpsfw_payload_matches_total', 'vpsfw_log_lines_suppressed_total', 'vpsfw_flow_evictions_total']) t.equal(f.get(c), 'counter', c);
  for (const g of ['vpsfw_bans_active', 'vpsfw_policy_info', 'vpsfw_build_info', 'vpsfw_memory_bytes', 'vpsfw_event_loop_delay_p50_seconds', 'vpsfw_event_loop_delay_p99_seconds', 'vpsfw_event_loop_delay_max_seconds', 'vpsfw_tracked_sources', 'vpsfw_tracked_flows', 'vpsfw_start_time_seconds', 'vpsfw_queue_waiting', 'vpsfw_queue_overflowing', 'vpsfw_audit_mode']) t.equal(f.get(g), 'gauge', g);
});

t.test('CrowdSec: decisions by outcome, pulls, alerts, each role up or not; bans from CrowdSec under vpsfw_bans_total; no series without it', async (t) => {
  const s = samples((await new Exposition().render(fakeStatus(), undefined)).body);
  t.equal(value(s, 'vpsfw_crowdsec_decisions_total', { outcome: 'banned' }), 100_000);
  t.equal(value(s, 'vpsfw_crowdsec_decisions_total', { outcome: 'lifted' }), 7);
  t.equal(value(s, 'vpsfw_crowdsec_decisions_total', { outcome: 'ignored' }), 5);
  t.equal(s.filter((x) => x.name === 'vpsfw_crowdsec_decisions_total').length, 6, 'every outcome');
  t.equal(value(s, 'vpsfw_crowdsec_pulls_total', { result: 'ok' }), 40);
  t.equal(value(s, 'vpsfw_crowdsec_pulls_total', { result: 'failed' }), 3);
  t.equal(value(s, 'vpsfw_crowdsec_last_pull_timestamp_seconds', { url: 'http://198.18.0.1:8080/' }), 1_700_000_000);
  t.equal(value(s, 'vpsfw_crowdsec_alerts_total', { result: 'sent' }), 9);
  t.equal(value(s, 'vpsfw_crowdsec_alerts_total', { result: 'dropped' }), 1);
  t.equal(value(s, 'vpsfw_crowdsec_alerts_queued', { login: 'web1' }), 4);
  t.equal(value(s, 'vpsfw_crowdsec_push_errors_total', { login: 'web1' }), 2);
  t.equal(value(s, 'vpsfw_crowdsec_up', { role: 'bouncer' }), 1);
  t.equal(value(s, 'vpsfw_crowdsec_up', { role: 'machine' }), 0, 'unreachable');
  t.equal(value(s, 'vpsfw_bans_total', { by: 'crowdsec', origin: 'crowdsec' }), 1, 'its bans, by the ban store');
  const f = families((await new Exposition().render(fakeStatus(), undefined)).body);
  for (const c of ['vpsfw_crowdsec_decisions_total', 'vpsfw_crowdsec_pulls_total', 'vpsfw_crowdsec_alerts_total', 'vpsfw_crowdsec_push_errors_total']) t.equal(f.get(c), 'counter', c);
  for (const g of ['vpsfw_crowdsec_last_pull_timestamp_seconds', 'vpsfw_crowdsec_alerts_queued', 'vpsfw_crowdsec_up']) t.equal(f.get(g), 'gauge', g);
  const e = new Exposition();
  await e.render(fakeStatus(), undefined);
  const bouncerOnly = fakeStatus({ crowdsec: { bouncer: { ...fakeStatus().crowdsec!.bouncer!, state: 'unreachable', lastPullAt: null }, machine: null } });
  const b = samples((await e.render(bouncerOnly, undefined)).body);
  t.equal(value(b, 'vpsfw_crowdsec_up', { role: 'bouncer' }), 0);
  t.same(b.filter((x) => /^vpsfw_crowdsec_(alerts|push|last_pull)/.test(x.name) || x.labels.role === 'machine'), [], 'no machine, no pull yet: none of their series');
  const none = samples((await e.render(fakeStatus({ crowdsec: null }), undefined)).body);
  t.same(none.filter((x) => x.name.startsWith('vpsfw_crowdsec_')), [], 'no crowdsec section: no CrowdSec series, not a false 0');
});

t.test('audit mode: what is counted was not enforced', async (t) => {
  const s = samples((await new Exposition().render(fakeStatus({ mode: 'audit' }), undefined)).body);
  t.equal(value(s, 'vpsfw_audit_mode'), 1);
});

t.test('a fail-open queue: its unjudged packets counted too, under its fail mode; a queue the kernel does not list', async (t) => {
  const s = samples((await new Exposition().render(fakeStatus({ queue: { ...fakeStatus().queue, failMode: 'open', received: 5, unjudged: 40, overflowing: true, kernel: null } }), undefined)).body);
  t.same(s.filter((x) => x.name === 'vpsfw_queue_unjudged_total').map((x) => [x.labels.fail_mode, x.value]), [['open', 40]]);
  t.equal(value(s, 'vpsfw_queue_packets_total'), 5);
  t.equal(value(s, 'vpsfw_queue_overflowing'), 1);
  t.equal(s.filter((x) => x.name === 'vpsfw_queue_kernel_drops_total').length, 0, 'no kernel counters: no series, not a false 0');
});

t.test('each scrape shows the snapshot of that scrape, series that went away included', async (t) => {
  const e = new Exposition();
  await e.render(fakeStatus(), undefined);
  const later = fakeStatus({ policy: { ...fakeStatus().policy, source: 'p', hash: 'ffff' }, verdictsBy: { 'rule:web': { accept: 1001 } } });
  const s = samples((await e.render(later, undefined)).body);
  t.same(s.filter((x) => x.name === 'vpsfw_policy_info').map((x) => x.labels.hash), ['ffff'], 'one policy: the one in force');
  t.same(s.filter((x) => x.name === 'vpsfw_verdicts_total').map((x) => x.value), [1001]);
});

t.test('OpenMetrics when the scraper asks (as Prometheus does), the text format otherwise', async (t) => {
  t.ok(wantsOpenMetrics(PROMETHEUS_ACCEPT));
  t.ok(wantsOpenMetrics('application/openmetrics-text'));
  t.notOk(wantsOpenMetrics('application/openmetrics-text;q=0,text/plain'), 'q=0 refuses it');
  t.notOk(wantsOpenMetrics('text/plain;version=0.0.4'));
  t.notOk(wantsOpenMetrics(undefined));
  const om = await new Exposition().render(fakeStatus(), PROMETHEUS_ACCEPT);
  t.equal(om.type, OPENMETRICS_TYPE);
  t.match(om.body, /\n# EOF\n$/, 'ends with # EOF');
  const f = families(om.body);
  t.equal(f.get('vpsfw_verdicts'), 'counter', 'a counter family is named without _total');
  t.equal(value(samples(om.body.replace('# EOF\n', '')), 'vpsfw_verdicts_total', { action: 'drop', by: 'detector:synFlood' }), 180, 'its samples keep it');
});

// promtool reads the text format only; a real Prometheus reads the OpenMetrics one in
// tests/e2e/metrics-prometheus.test.ts.
t.test('promtool check metrics: nothing to say', async (t) => {
  const { body } = await new Exposition().render(fakeStatus(), undefined);
  const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
  t.equal(r.error, undefined, 'promtool runs (Debian package prometheus; scripts/setup.sh installs it)');
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.equal((r.stdout + r.stderr).trim(), '', 'no lint');
});

t.test('the modules loaded alone are prom-client\'s own (a new layout fails here, not in production)', async (t) => {
  const require = createRequire(import.meta.url);
  const prom = require('prom-client') as Record<string, unknown>;
  t.equal(require('prom-client/lib/registry'), prom.Registry);
  t.equal(require('prom-client/lib/counter'), prom.Counter);
  t.equal(require('prom-client/lib/gauge'), prom.Gauge);
});
