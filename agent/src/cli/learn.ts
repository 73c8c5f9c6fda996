import { readFileSync, writeFileSync } from 'node:fs';
import { PolicyInvalidError, UsageError, formatIssue } from '../errors.js';
import { collectFromLogs, collectLive, listeners, type AgentLog } from '../learn/collect.js';
import { policyDiff } from '../learn/diff.js';
import { propose } from '../learn/propose.js';
import { ownAddresses } from '../logsources/own-addresses.js';
import { parsePolicy } from '../policy/load.js';
import { parseDuration } from '../policy/units.js';
import { controlOption, parse, policyOption, type Io } from './args.js';
import { ask } from './client-command.js';

const cmd = {
  usage: `usage: vpsfw learn [--duration 10m] [--agent-journal UNIT | --agent-log FILE]
                   [--from-journal UNIT [--since TIME] | --from-file FILE]
                   [--policy FILE] [--control PATH] [--out FILE] [--json]
                   [--percentile 99] [--headroom 2] [--min-probes 2]

Proposes a policy from the traffic this host had: accept rules for the ports it listens on that
were used from outside (by protocol, and by family when only one was used), a rate limit per port
at the given percentile of the sources' busiest minute times the headroom, and the sources that
only ever tried closed ports as denied networks. The rest of the running policy is kept.
  --duration D       watch for D (default 10m): new connections as conntrack sees them (run as
                     root), and the agent's own log lines (--agent-journal, default vpsfw.service,
                     or --agent-log FILE): what it dropped or would drop
  --from-journal U   instead, read the agent's past log lines from unit U's journal (--since:
  --from-file FILE   journalctl's syntax, e.g. "-1d") or from a file of its JSON lines
  --policy FILE      the policy to compare with and keep the rest of (default: the running one)
  --out FILE         write the proposed policy there (JSON, accepted by vpsfw check)
  --json             print {policy, reasons, diff, seen} as JSON
What listens is read from ss at the end. Prints why each entry is there, the diff against the
running policy, and the proposed policy.`,
  options: {
    ...policyOption,
    ...controlOption,
    duration: { type: 'string' },
    'agent-journal': { type: 'string' },
    'agent-log': { type: 'string' },
    'from-journal': { type: 'string' },
    'from-file': { type: 'string' },
    since: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    percentile: { type: 'string' },
    headroom: { type: 'string' },
    'min-probes': { type: 'string' },
  },
} as const;

function number(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name}: expected a number ${min}–${max} (got ${JSON.stringify(text)})`);
  return n;
}

/** The running policy as its file holds it: --policy, else the file the agent says it runs. */
async function currentPolicy(values: { policy?: string | undefined; control?: string | undefined }): Promise<{ source: string; doc: Record<string, unknown> } | null> {
  let file = values.policy;
  if (file === undefined) {
    const status = (await ask(values, { cmd: 'status' }).catch(() => null)) as { policy?: { source?: string } } | null;
    file = status?.policy?.source?.startsWith('/') ? status.policy.source : undefined;
  }
  if (file === undefined) return null;
  return { source: file, doc: JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> };
}

export default async function learn(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  if (values['from-journal'] !== undefined && values['from-file'] !== undefined) throw new UsageError(`give one of --from-journal and --from-file\n\n${cmd.usage}`);
  if (values['agent-journal'] !== undefined && values['agent-log'] !== undefined) throw new UsageError(`give one of --agent-journal and --agent-log\n\n${cmd.usage}`);
  const options = {
    ...(values.percentile !== undefined ? { percentile: number('percentile', values.percentile, 1, 100) } : {}),
    ...(values.headroom !== undefined ? { headroom: number('headroom', values.headroom, 1, 100) } : {}),
    ...(values['min-probes'] !== undefined ? { minProbes: number('min-probes', values['min-probes'], 1, 65535) } : {}),
  };
  const current = await currentPolicy(values);
  const fromLogs: AgentLog | null = values['from-journal'] !== undefined ? { journal: values['from-journal'] } : values['from-file'] !== undefined ? { file: values['from-file'] } : null;
  let observations;
  if (fromLogs) observations = await collectFromLogs(fromLogs, values.since);
  else {
    const ms = parseDuration(values.duration ?? '10m');
    if (ms === null) throw new UsageError(`--duration: expected a duration such as "10m" (got ${JSON.stringify(values.duration)})`);
    const agentLog: AgentLog = values['agent-log'] !== undefined ? { file: values['agent-log'] } : { journal: values['agent-journal'] ?? 'vpsfw.service' };
    if (!values.json) io.err(`vpsfw learn: watching for ${values.duration ?? '10m'}…`);
    observations = await collectLive(ms, agentLog);
  }
  const p = propose({ observations, listeners: await listeners(), isLocal: ownAddresses(), current: current?.doc ?? null, options });
  // What is printed must be what `vpsfw check` accepts: checked here with the same schema.
  try {
    parsePolicy(p.policy, 'the proposed policy');
  } catch (err) {
    if (err instanceof PolicyInvalidError) throw new Error(`the proposed policy is invalid (a bug): ${err.issues.map(formatIssue).join('; ')}`);
    throw err;
  }
  const diff = policyDiff(current?.doc ?? null, p.policy);
  const text = JSON.stringify(p.policy, null, 2) + '\n';
  if (values.out) writeFileSync(values.out, text);
  if (values.json) return io.out(JSON.stringify({ ...p, diff }, null, 2)), 0;
  const when = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());
  io.out(`learned from ${p.seen.connections} inbound connection${p.seen.connections === 1 ? '' : 's'} by ${p.seen.sources} source${p.seen.sources === 1 ? '' : 's'} (${when(p.seen.from)} to ${when(p.seen.to)})\n`);
  io.out(`why:\n${p.reasons.map((r) => `  ${r.item}: ${r.why}`).join('\n') || '  (nothing learned)'}\n`);
  io.out(`diff against ${current?.source ?? '(no running policy)'}:\n${diff.map((l) => `  ${l}`).join('\n') || '  (none)'}\n`);
  io.out(values.out ? `policy written to ${values.out}` : `policy:\n${text}`);
  return 0;
}
