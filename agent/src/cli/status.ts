import type { AgentStatus } from '../daemon/status.js';
import { controlOption, parse, type Io } from './args.js';
import { ask, CONTROL_HELP } from './client-command.js';

const cmd = {
  usage: `usage: vpsfw status [--json] [--control PATH]

Shows the running agent: uptime, policy and its hash, packets per verdict and per rule or detector,
the queue and what it did not judge, bans, reloads, what it tracks, its memory and event loop, and
its HTTP listener. (\`vpsfw top\`: the same, live.)
  --json           the whole status as JSON
${CONTROL_HELP}`,
  options: { ...controlOption, json: { type: 'boolean' } },
} as const;

const mib = (bytes: number) => (bytes / 1048576).toFixed(1);

export default async function status(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const s = (await ask(values, { cmd: 'status' })) as AgentStatus;
  if (values.json) return io.out(JSON.stringify(s, null, 2)), 0;
  const lines = [
    `vpsfw ${s.version}, pid ${s.pid}, up ${s.uptimeSeconds}s`,
    `policy:   ${s.policy.source} (${s.policy.hash})`,
    `queue:    ${s.queue.num} (fail-${s.queue.failMode}), ${s.queue.received} packets judged, ${s.queue.unjudged ?? 'uncounted'} not judged, ${s.queue.kernelDrops} dropped by the kernel queue`,
    `verdicts: ${Object.entries(s.verdicts).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `by:       ${Object.entries(s.decidedBy).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`,
    `bans:     ${s.bans.active} active (IPv4 ${s.bans.activeByFamily.ipv4}, IPv6 ${s.bans.activeByFamily.ipv6}); since start ${Object.values(s.bans.made).reduce((a, b) => a + b, 0)} made, ${s.bans.lifted} lifted, ${s.bans.expired} expired, ${s.bans.evicted} evicted`,
    `reloads:  ${s.reloads.accepted} accepted, ${s.reloads.rejected} rejected`,
    `tracked:  ${s.tracked.sources} sources, ${s.tracked.flows} flows`,
    `memory:   ${mib(s.memory.rss)} MiB resident, ${mib(s.memory.heapUsed)} MiB of it JavaScript objects; event loop delay p99 ${s.eventLoop.p99Ms} ms, max ${s.eventLoop.maxMs} ms (last ${s.eventLoop.windowSeconds} s)`,
    `http:     ${s.http ? `${s.http.url} (\`vpsfw dashboard\` prints it with its token)` : 'off'}`,
  ];
  io.out(lines.join('\n'));
  return 0;
}
