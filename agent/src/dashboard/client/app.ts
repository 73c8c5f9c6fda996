// The dashboard's script (runs in the browser; compiled with the agent, served by it). Once a
// second it reads the status snapshot (the policy summary in it) and the new events of the bus;
// rates are the counters' differences.
// Read-only: nothing here changes the agent (ban, unban, reload stay on the control socket).
// Every value goes into the page as text (textContent), never as markup.
import type UPlotT from 'uplot';
import type { BanEntry } from '../../bans/store.js';
import type { AgentStatus, PolicySummary } from '../../daemon/status.js';
import type { EventPage, RecentEvent } from '../../http/recent-events.js';

declare const uPlot: typeof UPlotT;

/** Samples kept in the charts: one a second, five minutes. */
const WINDOW = 300;
const MAX_EVENTS = 200;
const token = new URLSearchParams(location.search).get('token') ?? '';
const byId = (id: string) => document.getElementById(id)!;

async function get<T>(path: string): Promise<T> {
  const r = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text = '', className = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.textContent = text;
  if (className) e.className = className;
  return e;
}

function row(cells: Array<string | number>, classes: string[] = []): HTMLTableRowElement {
  const tr = el('tr');
  cells.forEach((c, i) => tr.append(el('td', String(c), classes[i] ?? '')));
  return tr;
}

/** A live chart: the last WINDOW samples; its element says how many it drew and each series' largest value. */
class Chart {
  readonly #el: HTMLElement;
  readonly #labels: string[];
  readonly #data: Array<Array<number | null>>;
  readonly #plot: UPlotT;

  constructor(id: string, series: Array<{ label: string; stroke: string }>) {
    this.#el = byId(id);
    this.#labels = series.map((s) => s.label);
    this.#data = [[], ...series.map(() => [])];
    const el = this.#el;
    this.#plot = new uPlot(
      {
        width: this.#width(),
        height: 180,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5, spanGaps: false }))],
        axes: [{}, { size: 60 }],
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        hooks: { draw: [(u) => (el.dataset.drawn = String(u.data[0].length))] },
      },
      this.#data as UPlotT.AlignedData,
      el,
    );
    addEventListener('resize', () => this.#plot.setSize({ width: this.#width(), height: 180 }));
  }

  push(t: number, values: Array<number | null>): void {
    this.#data[0]!.push(t);
    values.forEach((v, i) => this.#data[i + 1]!.push(v));
    if (this.#data[0]!.length > WINDOW) for (const d of this.#data) d.shift();
    this.#plot.setData(this.#data as UPlotT.AlignedData);
    this.#el.dataset.points = String(this.#data[0]!.length);
    this.#labels.forEach((label, i) => this.#el.setAttribute(`data-max-${label}`, String(Math.max(0, ...this.#data[i + 1]!.map((v) => v ?? 0)))));
  }

  #width(): number {
    return Math.max(300, this.#el.clientWidth);
  }
}

const verdicts = new Chart('chart-verdicts', [
  { label: 'accept', stroke: '#2a2' },
  { label: 'drop', stroke: '#d33' },
  { label: 'reject', stroke: '#e90' },
  // Dropped in the kernel before the agent: banned and denied sources.
  { label: 'banned', stroke: '#939' },
]);
const bansChart = new Chart('chart-bans', [
  { label: 'ipv4', stroke: '#36c' },
  { label: 'ipv6', stroke: '#93c' },
]);
const queue = new Chart('chart-queue', [
  { label: 'judged', stroke: '#36c' },
  { label: 'unjudged', stroke: '#d33' },
  { label: 'over-bound', stroke: '#e90' },
]);

let previous: { at: number; s: AgentStatus } | null = null;

function showStatus(s: AgentStatus, at: number): void {
  const mib = (b: number) => (b / 1048576).toFixed(1);
  byId('agent').textContent = `${s.version}, pid ${s.pid}, up ${s.uptimeSeconds} s, policy ${s.policy.hash} (${s.policy.source}), ${mib(s.memory.rss)} MiB, event loop p99 ${s.eventLoopDelayMs.p99} ms`;
  const t = at / 1000;
  bansChart.push(t, [s.bans.activeByFamily.ipv4, s.bans.activeByFamily.ipv6]);
  if (previous) {
    const dt = (at - previous.at) / 1000;
    const p = previous.s;
    // The kernel's counters restart at a reload: no rate across it.
    const rate = (now: number, then: number) => (now < then ? null : Math.round(((now - then) / dt) * 10) / 10);
    const [k, pk] = [s.kernel.counters, p.kernel.counters];
    verdicts.push(t, [rate(s.verdicts.accept, p.verdicts.accept), rate(s.verdicts.drop, p.verdicts.drop), rate(s.verdicts.reject, p.verdicts.reject), rate(k.banned + k.bannedNetworks + k.denied, pk.banned + pk.bannedNetworks + pk.denied)]);
    queue.push(t, [rate(s.queue.received, p.queue.received), rate(s.queue.unjudged, p.queue.unjudged), rate(k.overPerSourceBound, pk.overPerSourceBound)]);
  }
  if (s.policy.hash !== previous?.s.policy.hash) showPolicy(s.policy, s.mode, s.queue.failMode);
  showCrowdsec(s.crowdsec);
  previous = { at, s };
  byId('sources').querySelector('tbody')!.replaceChildren(...s.dropSources.map((d) => row([d.address, d.drops])));
}

/** Bans as the agent lists them, with the agent's clock (time left is counted down here between reads). */
let bans: { offset: number; list: BanEntry[] } = { offset: 0, list: [] };

async function loadBans(): Promise<void> {
  const r = await get<{ now: number; total: number; bans: BanEntry[] }>('/api/bans?limit=100');
  bans = { offset: r.now - Date.now(), list: r.bans };
  byId('bans-total').textContent = r.total > r.bans.length ? `(${r.total}, the newest ${r.bans.length} shown)` : `(${r.total})`;
  showBans();
}

function showBans(): void {
  const now = Date.now() + bans.offset;
  const left = (until: number) => {
    const s = Math.max(0, Math.round((until - now) / 1000));
    return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
  };
  byId('bans').querySelector('tbody')!.replaceChildren(...bans.list.map((b) => row([b.address, left(b.until), b.by, b.reason, b.offense], ['address', 'left', 'by', 'reason', 'offense'])));
}

let bansSoon: ReturnType<typeof setTimeout> | undefined;
/** After a ban event: read the list once the burst has passed. */
function bansChanged(): void {
  bansSoon ??= setTimeout(() => {
    bansSoon = undefined;
    void loadBans().catch(down);
  }, 300);
}

let after = 0;

/** The event's summary line, then the fields it does not already say. */
function describe(e: RecentEvent): string {
  const f = e as Record<string, unknown>;
  const parts = ['address', 'src', 'dst', 'dport', 'by', 'reason', 'duration', 'policyHash', 'trigger']
    .filter((k) => f[k] !== undefined && f[k] !== null && !e.msg.includes(String(f[k])))
    .map((k) => `${k}=${String(f[k])}`);
  return `${e.time.slice(11, 19)} ${e.msg} ${parts.join(' ')}`;
}

async function loadEvents(): Promise<void> {
  const page = await get<EventPage>(`/api/events?after=${after}`);
  after = page.next;
  const list = byId('events');
  for (const e of page.events) {
    list.prepend(el('li', describe(e), e.level));
    if (e.event === 'ban' || e.event === 'unban') bansChanged();
  }
  while (list.children.length > MAX_EVENTS) list.lastElementChild!.remove();
}

function showPolicy(p: PolicySummary, mode: string, failMode: string): void {
  const entries: Array<[string, string]> = [
    ['source', `${p.source} (${p.hash})`],
    ['mode', mode === 'audit' ? 'AUDIT: judging only, nothing is dropped or banned' : 'enforce'],
    ['fail mode', failMode],
    ['defaults', `inbound ${p.defaults.inbound}, outbound ${p.defaults.outbound}, malformed ${p.defaults.malformed}`],
    ...p.rules.map((r): [string, string] => ['rule', r]),
    ...p.rateLimits.map((r): [string, string] => ['rate limit', r]),
    ...p.detectors.map((r): [string, string] => ['detector', r]),
    ...p.payloadRules.map((r): [string, string] => ['payload rule', r]),
    ['bans', p.bans],
    ['trusted interfaces', p.trustedInterfaces.join(', ') || 'none'],
    ['allowlist', p.allowlist.join(', ')],
    ['denied networks', String(p.denyNetworks)],
  ];
  byId('policy').replaceChildren(...entries.flatMap(([k, v]) => [el('dt', k), el('dd', v)]));
}

/** The bouncer's and the machine's state and counts; the panel hidden without a `crowdsec` section. */
function showCrowdsec(c: AgentStatus['crowdsec']): void {
  byId('crowdsec-panel').hidden = c === null;
  if (c === null) return;
  const { bouncer: b, machine: m } = c;
  const entries: Array<[string, string]> = [
    ['LAPI', (b ?? m)!.url],
    ['decisions', b ? `${b.state}: ${b.decisions.banned} banned, ${b.decisions.lifted} lifted, ${b.decisions.ignored} ignored, ${b.failures} failed pulls${b.lastPullAt === null ? '' : `, last pull at ${new Date(b.lastPullAt).toLocaleTimeString()}`}` : 'not followed'],
    ['alerts', m ? `${m.state} (${m.login}): ${m.sent} sent, ${m.queued} queued, ${m.dropped} dropped` : 'bans not reported'],
  ];
  byId('crowdsec').replaceChildren(...entries.flatMap(([k, v]) => [el('dt', k), el('dd', v)]));
}

function down(err: unknown): void {
  byId('link').className = 'link down';
  byId('link').title = String(err);
}

async function tick(): Promise<void> {
  const s = await get<AgentStatus>('/api/status');
  showStatus(s, Date.now());
  await loadEvents();
  showBans();
  byId('link').className = 'link';
}

void Promise.all([loadBans(), tick()]).catch(down);
setInterval(() => void tick().catch(down), 1000);
setInterval(() => void loadBans().catch(down), 5000);
