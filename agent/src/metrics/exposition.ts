// GET /metrics: the status snapshot in the Prometheus text format, or in OpenMetrics when the
// scraper asks for it (Prometheus does). The values are set from the snapshot at each scrape; the
// agent counts where it always has (engine, queue, ban store, the kernel's rule counters), never
// for the exposition.
//
// prom-client does the formatting and escaping. Its entry point also loads its Pushgateway
// (node:https, node:zlib) and its cluster aggregator: 11 MiB more resident memory, against 0.2 MiB
// for the three modules used here (docs/observability.md, measured), so those are loaded alone.
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';
import type { AgentStatus } from '../daemon/status.js';

const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry') as typeof Prom.Registry;
const Counter = require('prom-client/lib/counter') as typeof Prom.Counter;
const Gauge = require('prom-client/lib/gauge') as typeof Prom.Gauge;

export const PROMETHEUS_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

/** OpenMetrics when the Accept header names it (with a q above 0), else the Prometheus text format. */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => {
    const [type, ...params] = part.trim().split(';').map((s) => s.trim());
    const q = params.find((p) => p.startsWith('q='));
    return type === 'application/openmetrics-text' && (q === undefined || Number(q.slice(2)) > 0);
  });
}

export class Exposition {
  readonly #text = new Registry<typeof PROMETHEUS_TYPE>();
  readonly #open = openMetricsRegistry();
  /** One scrape at a time: values are set, then read. */
  #last: Promise<unknown> = Promise.resolve();

  readonly #verdicts = this.#counter('vpsfw_verdicts_total', 'Packets judged, by verdict and by who decided (rule:NAME, default:inbound, ratelimit:NAME, detector:NAME, payload:NAME, flow:NAME, malformed:REASON).', ['action', 'by']);
  readonly #detectorHits = this.#counter('vpsfw_detector_hits_total', 'Packets each detector stopped.', ['detector']);
  readonly #payloadMatches = this.#counter('vpsfw_payload_matches_total', 'Packets each payload rule matched, whatever its action.', ['rule']);
  readonly #observed = this.#counter('vpsfw_observed_total', 'Packets the kernel refused and showed the agent (NFLOG samples, for the detectors), by who the agent says decided (rule:NAME, default:inbound, detector:NAME).', ['by']);
  readonly #kernelRules = this.#counter('vpsfw_kernel_rule_packets_total', 'New packets each static rule (rule:NAME) or default (default:inbound) decided in the kernel, with the action the policy gives it; from zero again at each reload.', ['by']);
  readonly #kernelDropped = this.#counter('vpsfw_kernel_drops_total', 'Packets the kernel dropped before the rules: banned, banned_network, denied, per_source_bound, invalid, unspecified_source; from zero again at each reload.', ['reason']);
  readonly #kernelQueued = this.#counter('vpsfw_kernel_queued_total', 'Packets the kernel sent to the queue (what the agent should judge); from zero again at each reload.');
  readonly #queuePackets = this.#counter('vpsfw_queue_packets_total', 'Packets the kernel queued to the agent and the agent judged.');
  readonly #queueUnjudged = this.#counter('vpsfw_queue_unjudged_total', 'Packets the kernel queued that the agent never judged (queue full, socket overrun, no listener), by the queue\'s fail mode: let on unjudged (open) or dropped (closed).', ['fail_mode']);
  readonly #queueKernelDrops = this.#counter('vpsfw_queue_kernel_drops_total', "The kernel queue's own counters of packets it could not hand over: queue_full (queue.maxLen reached), socket_full (the agent's socket buffer).", ['cause']);
  readonly #queueWaiting = this.#gauge('vpsfw_queue_waiting', 'Packets waiting in the queue for a verdict.');
  readonly #queueOverflowing = this.#gauge('vpsfw_queue_overflowing', '1 while unjudged packets keep coming (the overflow watch), else 0.');
  readonly #bansMade = this.#counter('vpsfw_bans_total', 'Bans made, by decider (detector:NAME, ratelimit:NAME, payload:NAME, control, crowdsec, log:NAME) and origin (agent, control, crowdsec, log).', ['by', 'origin']);
  readonly #bansEnded = this.#counter('vpsfw_bans_ended_total', 'Bans ended: lifted (unban), expired, evicted (to make room at bans.maxEntries), allowlisted (a reload allowlisted them).', ['reason']);
  readonly #bansActive = this.#gauge('vpsfw_bans_active', 'Bans in force now.', ['family']);
  // Labelled all, so that without a `crowdsec` section (or a role of it) there is no series, not a false 0.
  readonly #crowdsecDecisions = this.#counter('vpsfw_crowdsec_decisions_total', "CrowdSec decisions pulled from the LAPI, by what the agent did with them: banned, already (in force already, none longer), lifted, allowlisted, refused (never banned: e.g. 0.0.0.0), ignored (a type or scope the firewall does not enforce).", ['outcome']);
  readonly #crowdsecPulls = this.#counter('vpsfw_crowdsec_pulls_total', 'Pulls of the LAPI decisions stream, by result: ok, failed (unreachable, key refused, a bad answer).', ['result']);
  readonly #crowdsecLastPull = this.#gauge('vpsfw_crowdsec_last_pull_timestamp_seconds', 'When the last pull of the decisions stream worked, in seconds since the epoch, with the LAPI as a label.', ['url']);
  readonly #crowdsecAlerts = this.#counter('vpsfw_crowdsec_alerts_total', "The agent's own bans reported to the LAPI as alerts, by result: sent, dropped (the backlog, crowdsec.reportBacklog, was full).", ['result']);
  readonly #crowdsecQueued = this.#gauge('vpsfw_crowdsec_alerts_queued', 'Alerts waiting for the LAPI to take them, with the machine login as a label.', ['login']);
  readonly #crowdsecPushErrors = this.#counter('vpsfw_crowdsec_push_errors_total', 'Logins and alert pushes to the LAPI that failed, with the machine login as a label.', ['login']);
  readonly #crowdsecUp = this.#gauge('vpsfw_crowdsec_up', '1 when the last exchange of that role with the LAPI worked (bouncer: its last pull; machine: its last push, or nothing to push yet), else 0.', ['role']);
  readonly #reloads = this.#counter('vpsfw_reloads_total', 'Policy reloads, by result.', ['result']);
  readonly #suppressed = this.#counter('vpsfw_log_lines_suppressed_total', 'Drop and reject log lines left out by logging.dropLogsPerSecond.');
  readonly #flowEvictions = this.#counter('vpsfw_flow_evictions_total', 'Inspected flows forgotten to make room at limits.flows.');
  readonly #sources = this.#gauge('vpsfw_tracked_sources', 'Sources the rate limits and detectors hold state for.');
  readonly #flows = this.#gauge('vpsfw_tracked_flows', 'TCP flows with payload-inspection state.');
  readonly #policy = this.#gauge('vpsfw_policy_info', 'The policy in force: 1, with its hash and source as labels.', ['hash', 'source']);
  readonly #audit = this.#gauge('vpsfw_audit_mode', '1 in audit mode (policy mode "audit", or vpsfw run --audit): the verdicts and bans counted are what the agent would have done, none enforced; 0 while enforcing.');
  readonly #build = this.#gauge('vpsfw_build_info', "The agent's version: 1, with the version as a label.", ['version']);
  readonly #start = this.#gauge('vpsfw_start_time_seconds', 'When the agent started, in seconds since the epoch.');
  readonly #memory = this.#gauge('vpsfw_memory_bytes', "The agent's memory (process.memoryUsage()): rss, heap_total, heap_used, external, array_buffers.", ['area']);
  readonly #loopP50 = this.#gauge('vpsfw_event_loop_delay_p50_seconds', 'Median event-loop delay over the last window (about 10 s).');
  readonly #loopP99 = this.#gauge('vpsfw_event_loop_delay_p99_seconds', '99th percentile event-loop delay over the last window.');
  readonly #loopMax = this.#gauge('vpsfw_event_loop_delay_max_seconds', 'Longest event-loop delay over the last window.');

  /** The metrics of `s`, as the Accept header asks. */
  render(s: AgentStatus, accept: string | undefined): Promise<{ type: string; body: string }> {
    const registry = wantsOpenMetrics(accept) ? this.#open : this.#text;
    const next = this.#last.then(() => {
      this.#set(s);
      return registry.metrics();
    });
    this.#last = next.catch(() => undefined);
    return next.then((body) => ({ type: registry.contentType, body }));
  }

  #set(s: AgentStatus): void {
    this.#verdicts.reset();
    for (const [by, actions] of Object.entries(s.verdictsBy)) for (const [action, n] of Object.entries(actions)) this.#verdicts.inc({ action, by }, n);
    counts(this.#detectorHits, 'detector', s.detectorHits);
    counts(this.#payloadMatches, 'rule', s.payloadMatches);
    counts(this.#observed, 'by', s.observedBy);
    const k = s.kernel.counters;
    counts(this.#kernelRules, 'by', k.rules);
    counts(this.#kernelDropped, 'reason', { banned: k.banned, banned_network: k.bannedNetworks, denied: k.denied, per_source_bound: k.overPerSourceBound, invalid: k.invalid, unspecified_source: k.unspecifiedSource });
    total(this.#kernelQueued, k.queued);
    total(this.#queuePackets, s.queue.received);
    this.#queueUnjudged.reset();
    this.#queueUnjudged.inc({ fail_mode: s.queue.failMode }, s.queue.unjudged);
    const q = s.queue.kernel;
    counts(this.#queueKernelDrops, 'cause', q ? { queue_full: q.queueDropped, socket_full: q.userDropped } : {});
    this.#queueWaiting.set(q?.inQueue ?? 0);
    this.#queueOverflowing.set(s.queue.overflowing ? 1 : 0);
    this.#bansMade.reset();
    for (const m of s.bans.made) this.#bansMade.inc({ by: m.by, origin: m.origin }, m.count);
    counts(this.#bansEnded, 'reason', { lifted: s.bans.lifted, expired: s.bans.expired, evicted: s.bans.evicted, allowlisted: s.bans.allowlisted });
    this.#bansActive.set({ family: 'ipv4' }, s.bans.activeByFamily.ipv4);
    this.#bansActive.set({ family: 'ipv6' }, s.bans.activeByFamily.ipv6);
    this.#setCrowdsec(s.crowdsec);
    counts(this.#reloads, 'result', { accepted: s.reloads.accepted, rejected: s.reloads.rejected });
    total(this.#suppressed, s.logsSuppressed);
    total(this.#flowEvictions, s.tracked.flowEvictions);
    this.#sources.set(s.tracked.sources);
    this.#flows.set(s.tracked.flows);
    this.#policy.reset();
    this.#policy.set({ hash: s.policy.hash, source: s.policy.source }, 1);
    this.#audit.set(s.mode === 'audit' ? 1 : 0);
    this.#build.reset();
    this.#build.set({ version: s.version }, 1);
    this.#start.set(Math.round(Date.now() / 1000 - s.uptimeSeconds));
    const m = s.memory;
    const areas = { rss: m.rss, heap_total: m.heapTotal, heap_used: m.heapUsed, external: m.external, array_buffers: m.arrayBuffers };
    for (const [area, bytes] of Object.entries(areas)) this.#memory.set({ area }, bytes);
    this.#loopP50.set(s.eventLoopDelayMs.p50 / 1000);
    this.#loopP99.set(s.eventLoopDelayMs.p99 / 1000);
    this.#loopMax.set(s.eventLoopDelayMs.max / 1000);
  }

  /** The CrowdSec series: none without a `crowdsec` section, a role's only while it runs. */
  #setCrowdsec(c: AgentStatus['crowdsec']): void {
    const b = c?.bouncer ?? null;
    const m = c?.machine ?? null;
    counts(this.#crowdsecDecisions, 'outcome', b ? { ...b.decisions } : {});
    counts(this.#crowdsecPulls, 'result', b ? { ok: b.pulls, failed: b.failures } : {});
    this.#crowdsecLastPull.reset();
    if (b?.lastPullAt != null) this.#crowdsecLastPull.set({ url: b.url }, b.lastPullAt / 1000);
    counts(this.#crowdsecAlerts, 'result', m ? { sent: m.sent, dropped: m.dropped } : {});
    counts(this.#crowdsecPushErrors, 'login', m ? { [m.login]: m.failures } : {});
    this.#crowdsecQueued.reset();
    if (m) this.#crowdsecQueued.set({ login: m.login }, m.queued);
    this.#crowdsecUp.reset();
    if (b) this.#crowdsecUp.set({ role: 'bouncer' }, b.state === 'ok' ? 1 : 0);
    if (m) this.#crowdsecUp.set({ role: 'machine' }, m.state === 'ok' || m.state === 'idle' ? 1 : 0);
  }

  #counter<L extends string>(name: string, help: string, labelNames: L[] = []): Prom.Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.#text, this.#open] });
  }

  #gauge<L extends string>(name: string, help: string, labelNames: L[] = []): Prom.Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.#text, this.#open] });
  }
}

function openMetricsRegistry(): Prom.Registry<typeof OPENMETRICS_TYPE> {
  const r = new Registry<typeof OPENMETRICS_TYPE>();
  r.setContentType(OPENMETRICS_TYPE);
  return r;
}

/** A counter set to a total the snapshot already holds. */
function total(c: Prom.Counter<string>, n: number): void {
  c.reset();
  c.inc(n);
}

/** A labelled counter set to the snapshot's counts, one series per key. */
function counts<L extends string>(c: Prom.Counter<L>, label: L, by: Record<string, number>): void {
  c.reset();
  for (const [k, n] of Object.entries(by)) c.inc({ [label]: k } as Partial<Record<L, string>>, n);
}
