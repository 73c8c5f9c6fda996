// `vpsfw status` for people: active, the mode (audit said loudly), the policy and its hash, the
// defaults, where our jumps are (and when one is missing or pushed down), the rules, bans, the
// queue with its overflow figures, what the kernel and the agent decided, memory.
import t from 'tap';
import { formatStatus } from '../../../agent/src/cli/status.js';
import type { AgentStatus } from '../../../agent/src/daemon/status.js';
import { emptyCounters } from '../../../agent/src/kernel/counters.js';

const hooks = (position: number) =>
  ([4, 6] as const).flatMap((family) =>
    [
      ['raw', 'PREROUTING', 'VPSFW-RAW'],
      ['mangle', 'INPUT', 'VPSFW-INPUT'],
      ['mangle', 'OUTPUT', 'VPSFW-OUTPUT'],
      ['filter', 'INPUT', 'VPSFW-REJECT'],
      ['filter', 'OUTPUT', 'VPSFW-REJECT'],
    ].map(([table, builtin, chain]) => ({ family, table: table as 'raw', builtin: builtin!, chain: chain!, position })),
  );

const status = (over: Partial<AgentStatus> = {}): AgentStatus => ({
  version: '0.2.0',
  pid: 42,
  uptimeSeconds: 4320,
  mode: 'enforce',
  policy: { source: '/etc/vpsfw/policy.json', hash: '0123456789abcdef', defaults: { inbound: 'drop', outbound: 'accept' }, rules: ['ssh: accept inbound tcp local 22'], trustedInterfaces: [], denyNetworks: 0 },
  kernel: { hooks: hooks(1), counters: { ...emptyCounters(), banned: 1234, rules: { 'rule:ssh': 5, 'default:inbound': 90 } } },
  queue: { num: 0, failMode: 'open', maxLen: 4096, received: 100, unjudged: 7, overflowing: true, kernel: { inQueue: 2, queueDropped: 0, userDropped: 0, idSequence: 102 }, observed: 90 },
  verdicts: { accept: 95, drop: 5, reject: 0 },
  decidedBy: { 'rule:ssh': 95, 'detector:synFlood': 5 },
  observedBy: { 'default:inbound': 90 },
  tracked: { sources: 3, flows: 0, flowEvictions: 0 },
  bans: { active: 3 },
  logsSuppressed: 0,
  reloads: { accepted: 2, rejected: 1 },
  logSources: [],
  memory: { rss: 60 * 1048576, heapUsed: 10 * 1048576, heapTotal: 0, external: 0, arrayBuffers: 0 },
  eventLoopDelayMs: { p50: 1, p99: 2, max: 3 },
  ...over,
} as AgentStatus);

t.test('the lines an operator reads', async (t) => {
  const text = formatStatus(status());
  t.match(text, /^Status: active \(vpsfw 0\.2\.0, pid 42, up 1h 12m\)$/m, 'active, with the uptime as 1h 12m');
  t.match(text, /^Mode: enforce$/m);
  t.match(text, /^Policy: \/etc\/vpsfw\/policy\.json \(hash 0123456789abcdef\)$/m);
  t.match(text, /^Default: drop \(incoming\), accept \(outgoing\); fail-open \(queue 0, 4,096 packets\)$/m);
  t.match(text, /^Jumps: in place \(IPv4: raw PREROUTING #1, mangle INPUT #1, mangle OUTPUT #1, filter INPUT #1, filter OUTPUT #1; IPv6: /m);
  t.match(text, /^  ssh: accept inbound tcp local 22$/m, 'the rules');
  t.match(text, /^Bans: 3 active; the kernel dropped 1,234 packets from banned addresses/m);
  t.match(text, /^Queue: 100 packets judged, 7 unjudged \(overflow, happening now\), 2 waiting/m, 'the overflow figures');
  t.match(text, /^Kernel decided: default:inbound 90, rule:ssh 5; invalid 0$/m);
  t.match(text, /^Agent decided: rule:ssh 95, detector:synFlood 5$/m);
  t.match(text, /^Memory: 60\.0 MiB resident/m);
});

t.test('audit mode is said loudly; a jump that is missing or not first is named', async (t) => {
  t.match(formatStatus(status({ mode: 'audit' })), /^Mode: AUDIT: judging only, nothing is dropped or banned$/m);
  const moved = hooks(1);
  moved[1] = { ...moved[1]!, position: 3 };
  moved[7] = { ...moved[7]!, position: 0 };
  const text = formatStatus(status({ kernel: { hooks: moved, counters: emptyCounters() } }));
  t.match(text, /^Jumps: NOT ALL FIRST \(vpsfw apply moves them back\) \(IPv4: raw PREROUTING #1, mangle INPUT #3, .*IPv6: .*mangle OUTPUT MISSING/m);
});
