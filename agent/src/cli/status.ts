// `vpsfw status`: the running agent for people, as `ufw status verbose` shows a firewall, and the
// whole snapshot (daemon/status.ts) for scripts with --json. Exit 3 when it is not running.
import type { CrowdsecStatus } from '../crowdsec/crowdsec.js';
import type { AgentStatus } from '../daemon/status.js';
import type { HookPosition } from '../kernel/apply.js';
import { controlOption, parse, type Io } from './args.js';
import { askStatus, CONTROL_HELP } from './client-command.js';
import { humanDuration } from './duration.js';

const cmd = {
  usage: `usage: vpsfw status [--json] [--control PATH]

Shows the running agent: whether it is active and where its jumps sit in the kernel's chains,
the policy (source, hash, defaults, rules), bans, the queue (judged, unjudged by overflow,
dropped by the kernel), what the kernel decided on its own, reloads, CrowdSec (when configured),
memory and event loop, and the HTTP listener. Exit 0 when running, 3 when not. (\`vpsfw top\`:
the same, live.)
  --json           the whole status as JSON (the same snapshot metrics and the dashboard read)
${CONTROL_HELP}`,
  options: { ...controlOption, json: { type: 'boolean' } },
} as const;

const n = (x: number) => x.toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

export default async function status(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const s = await askStatus(values);
  if (values.json) return io.out(JSON.stringify(s, null, 2)), 0;
  io.out(formatStatus(s));
  return 0;
}

export function formatStatus(s: AgentStatus): string {
  const q = s.queue;
  const k = s.kernel.counters;
  const counts = (o: Record<string, number>) => Object.entries(o).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([key, v]) => `${key} ${n(v)}`).join(', ') || 'none';
  return [
    `Status: active (vpsfw ${s.version}, pid ${s.pid}, up ${humanDuration(s.uptimeSeconds * 1000)})`,
    `Mode: ${s.mode === 'audit' ? 'AUDIT: judging only, nothing is dropped or banned' : 'enforce'}`,
    `Policy: ${s.policy.source} (hash ${s.policy.hash})`,
    `Default: ${s.policy.defaults.inbound} (incoming), ${s.policy.defaults.outbound} (outgoing); fail-${q.failMode} (queue ${q.num}, ${n(q.maxLen)} packets)`,
    `Jumps: ${hooks(s.kernel.hooks)}`,
    ...(s.policy.trustedInterfaces.length > 0 ? [`Trusted interfaces (not judged): ${s.policy.trustedInterfaces.join(', ')}`] : []),
    'Rules (decided in the kernel, first match wins):',
    ...s.policy.rules.map((r) => `  ${r}`),
    `Bans: ${n(s.bans.active)} active (IPv4 ${n(s.bans.activeByFamily.ipv4)}, IPv6 ${n(s.bans.activeByFamily.ipv6)}; by origin ${counts(s.bans.activeByOrigin)}); since start ${n(s.bans.made.reduce((a, m) => a + m.count, 0))} made, ${n(s.bans.lifted)} lifted, ${n(s.bans.expired)} expired, ${n(s.bans.evicted)} evicted; the kernel dropped ${n(k.banned)} packets from banned addresses, ${n(k.bannedNetworks)} from banned networks, ${n(k.denied)} from denied networks`,
    `Queue: ${n(q.received)} packets judged, ${n(q.unjudged)} unjudged (overflow${q.overflowing ? ', happening now' : ''}), ${n(q.kernel?.inQueue ?? 0)} waiting; ${n(k.overPerSourceBound)} over the per-source bound`,
    `Kernel decided: ${counts(k.rules)}; invalid ${n(k.invalid)}`,
    `Agent decided: ${counts(s.decidedBy)}`,
    `Seen of what the kernel refused: ${n(q.observed)} (${counts(s.observedBy)})`,
    ...s.logSources.map((l) => `Log source ${l.name} (${l.kind}): ${n(l.records)} records, ${n(l.failures)} failures, ${n(l.bans)} bans, ${n(l.refused)} refused`),
    ...(s.crowdsec ? [`CrowdSec: ${crowdsec(s.crowdsec)}`] : []),
    `Reloads: ${s.reloads.accepted} accepted, ${s.reloads.rejected} rejected; log lines suppressed: ${n(s.logsSuppressed)}`,
    `Memory: ${mib(s.memory.rss)} resident, ${mib(s.memory.heapUsed)} of it JavaScript objects; event loop late by ${s.eventLoopDelayMs.p99} ms (p99), ${s.eventLoopDelayMs.max} ms at most (last ${s.eventLoopDelayMs.windowSeconds} s)`,
    `HTTP: ${s.http ? `${s.http.url} (\`vpsfw dashboard\` prints it with its token)` : 'off'}`,
  ].join('\n');
}

/** "decisions ok (12 banned, …); alerts ok (3 sent, …)": the bouncer's half, then the machine's. */
function crowdsec({ bouncer: b, machine: m }: CrowdsecStatus): string {
  return [
    b ? `decisions ${b.state} (${n(b.decisions.banned)} banned, ${n(b.decisions.lifted)} lifted, ${n(b.decisions.ignored)} ignored${b.lastPullAt === null ? '' : `, last pull ${humanDuration(Date.now() - b.lastPullAt)} ago`})` : 'decisions not followed',
    m ? `alerts ${m.state} (${n(m.sent)} sent, ${n(m.queued)} queued, ${n(m.dropped)} dropped)` : 'bans not reported',
  ].join('; ');
}

/** "in place (IPv4: raw PREROUTING #1, …)", or which are missing or not first. */
function hooks(list: HookPosition[]): string {
  const where = (family: 4 | 6) =>
    list
      .filter((h) => h.family === family)
      .map((h) => `${h.table} ${h.builtin} ${h.position === 0 ? 'MISSING' : `#${h.position}`}`)
      .join(', ');
  const ok = list.every((h) => h.position === 1);
  return `${ok ? 'in place' : 'NOT ALL FIRST (vpsfw apply moves them back)'} (IPv4: ${where(4)}; IPv6: ${where(6)})`;
}
