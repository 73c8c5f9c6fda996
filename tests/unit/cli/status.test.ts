// `vpsfw status` for people: active, the mode (audit said loudly), the policy and its hash, the
// defaults, where our jumps are (and when one is missing or pushed down), the rules, bans, the
// queue with its overflow figures, what the kernel and the agent decided, reloads, memory and the
// event loop, the HTTP listener; the CrowdSec line says each half's state and counts, and is left
// out without a `crowdsec` section.
import t from 'tap';
import type { CrowdsecStatus } from '../../../agent/src/crowdsec/crowdsec.js';
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
  bans: { active: 3, activeByFamily: { ipv4: 2, ipv6: 1 }, activeByOrigin: { agent: 2, control: 0, crowdsec: 1, log: 0, kernel: 0 }, made: [{ by: 'detector:synFlood', origin: 'agent', count: 4 }, { by: 'control', origin: 'control', count: 1 }], lifted: 1, expired: 1, evicted: 0, allowlisted: 0, recent: [] },
  logsSuppressed: 0,
  reloads: { accepted: 2, rejected: 1 },
  logSources: [],
  crowdsec: null,
  memory: { rss: 60 * 1048576, heapUsed: 10 * 1048576, heapTotal: 0, external: 0, arrayBuffers: 0 },
  eventLoopDelayMs: { p50: 1, p99: 2, max: 3, windowSeconds: 10 },
  dropSources: [],
  http: null,
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
  t.match(text, /^Bans: 3 active \(IPv4 2, IPv6 1; by origin agent 2, crowdsec 1\); since start 5 made, 1 lifted, 1 expired, 0 evicted; the kernel dropped 1,234 packets from banned addresses/m);
  t.match(text, /^Queue: 100 packets judged, 7 unjudged \(overflow, happening now\), 2 waiting/m, 'the overflow figures');
  t.match(text, /^Kernel decided: default:inbound 90, rule:ssh 5; invalid 0$/m);
  t.match(text, /^Agent decided: rule:ssh 95, detector:synFlood 5$/m);
  t.match(text, /^Memory: 60\.0 MiB resident, 10\.0 MiB of it JavaScript objects; event loop late by 2 ms \(p99\), 3 ms at most \(last 10 s\)$/m);
  t.match(text, /^HTTP: off$/m);
  t.match(formatStatus(status({ http: { listen: '127.0.0.1:9469', url: 'http://127.0.0.1:9469/', tokenFile: '/var/lib/vpsfw/http-token' } })), /^HTTP: http:\/\/127\.0\.0\.1:9469\/ \(`vpsfw dashboard` prints it with its token\)$/m);
});

t.test('audit mode is said loudly; a jump that is missing or not first is named', async (t) => {
  t.match(formatStatus(status({ mode: 'audit' })), /^Mode: AUDIT: judging only, nothing is dropped or banned$/m);
  const moved = hooks(1);
  moved[1] = { ...moved[1]!, position: 3 };
  moved[7] = { ...moved[7]!, position: 0 };
  const text = formatStatus(status({ kernel: { hooks: moved, counters: emptyCounters() } }));
  t.match(text, /^Jumps: NOT ALL FIRST \(vpsfw apply moves them back\) \(IPv4: raw PREROUTING #1, mangle INPUT #3, .*IPv6: .*mangle OUTPUT MISSING/m);
});

t.test('the CrowdSec line: both halves, one, or none', async (t) => {
  const shown = (crowdsec: CrowdsecStatus | null) => formatStatus(status({ crowdsec }));
  const bouncer = { url: 'http://198.18.0.1:8080/', state: 'ok' as const, lastPullAt: Date.now() - 4000, pulls: 7, failures: 0, decisions: { banned: 1234, already: 0, lifted: 5, allowlisted: 1, refused: 0, ignored: 2 } };
  const machine = { url: 'http://198.18.0.1:8080/', login: 'web1', state: 'unreachable' as const, sent: 3, queued: 2, dropped: 0, skipped: 9, failures: 4 };
  t.match(shown({ bouncer, machine }), /^CrowdSec: decisions ok \(1,234 banned, 5 lifted, 2 ignored, last pull [45]s ago\); alerts unreachable \(3 sent, 2 queued, 0 dropped\)$/m);
  t.match(shown({ bouncer: { ...bouncer, state: 'unauthorized', lastPullAt: null }, machine: null }), /^CrowdSec: decisions unauthorized \(1,234 banned, 5 lifted, 2 ignored\); bans not reported$/m);
  t.match(shown({ bouncer: null, machine }), /^CrowdSec: decisions not followed; alerts unreachable/m);
  t.notMatch(shown(null), /CrowdSec/, 'no section, no line');
});
