// A status snapshot as the daemon builds it (agent/src/daemon/status.ts), with made-up counts,
// for the tests of what reads it: the metrics, the HTTP routes, `vpsfw top`.
import type { AgentStatus } from '../../agent/src/daemon/status.js';

export function fakeStatus(over: Partial<AgentStatus> = {}): AgentStatus {
  return {
    version: '0.1.0',
    pid: 4242,
    uptimeSeconds: 120,
    mode: 'enforce',
    policy: {
      source: '/etc/vpsfw/policy.json',
      hash: 'abcdef0123456789',
      defaults: { inbound: 'drop', outbound: 'accept', malformed: 'drop' },
      rules: ['web: accept inbound tcp local 80,8000-8100'],
      rateLimits: [],
      detectors: ['synFlood: 20/1s burst 40 per source, 2000/1s burst 4000 in all, ban 10m'],
      payloadRules: ['no-passwd: reject inbound tcp local 80 (text pattern), no ban'],
      bans: '1h, ×2 for each repeat up to 1w, at most 100000',
      allowlist: ['127.0.0.0/8', '::1/128'],
      trustedInterfaces: [],
      denyNetworks: 1,
    },
    kernel: {
      hooks: [{ family: 4, table: 'raw', builtin: 'PREROUTING', chain: 'VPSFW-RAW', position: 1 }],
      counters: { queued: 1507, banned: 9000, bannedNetworks: 40, denied: 12, overPerSourceBound: 3, invalid: 2, unspecifiedSource: 0, rules: { 'rule:web': 1200, 'default:inbound': 640 } },
    },
    queue: { num: 0, failMode: 'closed', maxLen: 4096, received: 1500, unjudged: 7, overflowing: false, kernel: { inQueue: 0, queueDropped: 5, userDropped: 2, idSequence: 1507 }, observed: 310 },
    verdicts: { accept: 1000, drop: 480, reject: 20 },
    decidedBy: { 'rule:web': 1000, 'default:inbound': 300, 'detector:synFlood': 180, 'payload:no-passwd': 20 },
    verdictsBy: { 'rule:web': { accept: 1000 }, 'default:inbound': { drop: 300 }, 'detector:synFlood': { drop: 180 }, 'payload:no-passwd': { reject: 20 } },
    observedBy: { 'default:inbound': 300, 'detector:portScan': 10 },
    detectorHits: { synFlood: 180, portScan: 10 },
    payloadMatches: { 'no-passwd': 20 },
    tracked: { sources: 12, flows: 3, flowEvictions: 1 },
    bans: {
      active: 3,
      activeByFamily: { ipv4: 2, ipv6: 1 },
      activeByOrigin: { agent: 1, control: 1, crowdsec: 1, log: 0, kernel: 0 },
      made: [
        { by: 'detector:synFlood', origin: 'agent', count: 2 },
        { by: 'control', origin: 'control', count: 1 },
        { by: 'payload:no-passwd', origin: 'agent', count: 1 },
        { by: 'crowdsec', origin: 'crowdsec', count: 1 },
      ],
      lifted: 1,
      expired: 0,
      evicted: 0,
      allowlisted: 0,
      recent: [
        { address: '192.0.2.9', family: 4, since: 1_000_000, until: 1_600_000, reason: 'SYN rate over 20/1s', by: 'detector:synFlood', origin: 'agent', offense: 1 },
        { address: '2001:db8::9', family: 6, since: 900_000, until: 4_500_000, reason: 'manual', by: 'control', origin: 'control', offense: 2 },
      ],
    },
    logsSuppressed: 55,
    reloads: { accepted: 2, rejected: 1 },
    logSources: [],
    crowdsec: {
      bouncer: { url: 'http://198.18.0.1:8080/', state: 'ok', lastPullAt: 1_700_000_000_000, pulls: 40, failures: 3, decisions: { banned: 100_000, already: 12, lifted: 7, allowlisted: 2, refused: 1, ignored: 5 } },
      machine: { url: 'http://198.18.0.1:8080/', login: 'web1', state: 'unreachable', sent: 9, queued: 4, dropped: 1, skipped: 100_000, failures: 2 },
    },
    dropSources: [
      { address: '192.0.2.9', drops: 180 },
      { address: '203.0.113.4', drops: 3 },
    ],
    http: { listen: '127.0.0.1:9469', url: 'http://127.0.0.1:9469/', tokenFile: '/var/lib/vpsfw/http-token' },
    memory: { rss: 60_000_000, heapTotal: 12_000_000, heapUsed: 8_000_000, external: 2_000_000, arrayBuffers: 1_000_000 },
    eventLoopDelayMs: { p50: 0.5, p99: 4.25, max: 12, windowSeconds: 10 },
    ...over,
  };
}
