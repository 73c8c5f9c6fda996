import type { CrowdsecStatus } from '../crowdsec/crowdsec.js';
import { controlOption, parse, type Io } from './args.js';
import { ask, CONTROL_HELP } from './client-command.js';

const cmd = {
  usage: `usage: vpsfw status [--json] [--control PATH]

Shows the running agent: uptime, policy and its hash, packets per verdict and per rule or detector,
queue drops, bans, what it tracks, CrowdSec (when configured) and its memory.
  --json           the whole status as JSON
${CONTROL_HELP}`,
  options: { ...controlOption, json: { type: 'boolean' } },
} as const;

interface Status {
  version: string;
  pid: number;
  uptimeSeconds: number;
  policy: { source: string; hash: string };
  queue: { num: number; failMode: string; received: number; kernelDrops: number };
  verdicts?: Record<string, number>;
  decidedBy?: Record<string, number>;
  bans: { active: number };
  tracked?: { sources: number; flows: number };
  memory?: { rss: number; heapUsed: number };
  crowdsec?: CrowdsecStatus;
  [k: string]: unknown;
}

const mib = (bytes: number) => (bytes / 1048576).toFixed(1);

export default async function status(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const s = (await ask(values, { cmd: 'status' })) as Status;
  if (values.json) return io.out(JSON.stringify(s, null, 2)), 0;
  const lines = [
    `vpsfw ${s.version}, pid ${s.pid}, up ${s.uptimeSeconds}s`,
    `policy:   ${s.policy.source} (${s.policy.hash})`,
    `queue:    ${s.queue.num} (fail-${s.queue.failMode}), ${s.queue.received} packets judged, ${s.queue.kernelDrops} dropped by the kernel queue`,
    `verdicts: ${Object.entries(s.verdicts ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `by:       ${Object.entries(s.decidedBy ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`,
    `bans:     ${s.bans.active} active`,
    ...(s.tracked ? [`tracked:  ${s.tracked.sources} sources, ${s.tracked.flows} flows`] : []),
    ...(s.crowdsec ? [`crowdsec: ${crowdsecLine(s.crowdsec)}`] : []),
    ...(s.memory ? [`memory:   ${mib(s.memory.rss)} MiB resident, ${mib(s.memory.heapUsed)} MiB of it JavaScript objects`] : []),
  ];
  io.out(lines.join('\n'));
  return 0;
}

function crowdsecLine(c: CrowdsecStatus): string {
  const b = c.bouncer;
  const m = c.machine;
  return [
    b ? `decisions ${b.state} (${b.decisions.banned} banned, ${b.decisions.lifted} lifted, ${b.decisions.ignored} ignored${b.lastPullAt === null ? '' : `, last pull ${Math.round((Date.now() - b.lastPullAt) / 1000)}s ago`})` : 'decisions not followed',
    m ? `alerts ${m.state} (${m.sent} sent, ${m.queued} queued, ${m.dropped} dropped)` : 'bans not reported',
  ].join('; ');
}
