// `vpsfw status` for people: the CrowdSec line says each half's state and counts, and is left out
// without a `crowdsec` section.
import t from 'tap';
import type { CrowdsecStatus } from '../../../agent/src/crowdsec/crowdsec.js';
import { formatStatus } from '../../../agent/src/cli/status.js';
import type { AgentStatus } from '../../../agent/src/daemon/status.js';

function statusWith(crowdsec: CrowdsecStatus | null): AgentStatus {
  const counters = { queued: 0, banned: 0, bannedNetworks: 0, denied: 0, overPerSourceBound: 0, invalid: 0, rules: {} };
  return {
    version: '0.1.0',
    pid: 1,
    uptimeSeconds: 60,
    mode: 'enforce',
    policy: { source: '/etc/vpsfw/policy.json', hash: 'abc', defaults: { inbound: 'drop', outbound: 'accept' }, rules: [], trustedInterfaces: [], denyNetworks: 0 },
    kernel: { hooks: [], counters },
    queue: { num: 0, failMode: 'open', maxLen: 1024, received: 0, unjudged: 0, overflowing: false, kernel: null, observed: 0 },
    verdicts: {},
    decidedBy: {},
    observedBy: {},
    bans: { active: 2, byOrigin: { agent: 1, control: 0, crowdsec: 1, log: 0, kernel: 0 } },
    logSources: [],
    crowdsec,
    logsSuppressed: 0,
    reloads: { accepted: 0, rejected: 0 },
    memory: process.memoryUsage(),
    eventLoopDelayMs: { p50: 0, p99: 0, max: 0 },
  } as unknown as AgentStatus;
}

t.test('the CrowdSec line: both halves, one, or none', async (t) => {
  const bouncer = { url: 'http://198.18.0.1:8080/', state: 'ok' as const, lastPullAt: Date.now() - 4000, pulls: 7, failures: 0, decisions: { banned: 1234, already: 0, lifted: 5, allowlisted: 1, refused: 0, ignored: 2 } };
  const machine = { url: 'http://198.18.0.1:8080/', login: 'web1', state: 'unreachable' as const, sent: 3, queued: 2, dropped: 0, skipped: 9, failures: 4 };
  t.match(formatStatus(statusWith({ bouncer, machine })), /^CrowdSec: decisions ok \(1,234 banned, 5 lifted, 2 ignored, last pull [45]s ago\); alerts unreachable \(3 sent, 2 queued, 0 dropped\)$/m);
  t.match(formatStatus(statusWith({ bouncer: { ...bouncer, state: 'unauthorized', lastPullAt: null }, machine: null })), /^CrowdSec: decisions unauthorized \(1,234 banned, 5 lifted, 2 ignored\); bans not reported$/m);
  t.match(formatStatus(statusWith({ bouncer: null, machine })), /^CrowdSec: decisions not followed; alerts unreachable/m);
  t.notMatch(formatStatus(statusWith(null)), /CrowdSec/, 'no section, no line');
});
