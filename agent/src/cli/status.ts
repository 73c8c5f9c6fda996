import { controlOption, parse, type Io } from './args.js';
import { ask, CONTROL_HELP } from './client-command.js';

const cmd = {
  usage: `usage: vpsfw status [--json] [--control PATH]

Shows the running agent: uptime, policy and its hash, packets per verdict and per rule or detector,
queue drops, bans, what it tracks and its memory.
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
  logSources?: Array<{ name: string; records: number; failures: number; bans: number; refused: number }>;
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
    ...(s.logSources?.length ? [`logs:     ${s.logSources.map((l) => `${l.name} ${l.records} records, ${l.failures} failures, ${l.bans} bans, ${l.refused} refused`).join('; ')}`] : []),
    ...(s.memory ? [`memory:   ${mib(s.memory.rss)} MiB resident, ${mib(s.memory.heapUsed)} MiB of it JavaScript objects`] : []),
  ];
  io.out(lines.join('\n'));
  return 0;
}
