// A status snapshot as the daemon builds it (agent/src/daemon/status.ts), with made-up counts,
// for the tests of what reads it: the metrics, the HTTP routes, `vpsfw top`.
import type { AgentStatus } from '../../agent/src/daemon/status.js';

export function fakeStatus(over: Partial<AgentStatus> = {}): AgentStatus {
  return {
    version: '0.1.0',
    pid: 4242,
    uptimeSeconds: 120,
    policy: { source: '/etc/vpsfw/policy.json', hash: 'abcdef0123456789' },
    queue: { num: 0, failMode: 'closed', received: 1500, kernelDrops: 7, unjudged: 7 },
    verdicts: { accept: 1000, drop: 480, reject: 20 },
    decidedBy: { 'rule:web': 1000, 'default:inbound': 300, 'detector:synFlood': 180, 'payload:no-passwd': 20 },
    verdictsBy: { 'rule:web': { accept: 1000 }, 'default:inbound': { drop: 300 }, 'detector:synFlood': { drop: 180 }, 'payload:no-passwd': { reject: 20 } },
    detectorHits: { synFlood: 180 },
    payloadMatches: { 'no-passwd': 20 },
    tracked: { sources: 12, flows: 3, flowEvictions: 1 },
    bans: {
      active: 3,
      activeByFamily: { ipv4: 2, ipv6: 1 },
      made: { 'detector:synFlood': 2, control: 1, 'payload:no-passwd': 1 },
      lifted: 1,
      expired: 0,
      evicted: 0,
      recent: [
        { address: '192.0.2.9', family: 4, since: 1_000_000, until: 1_600_000, reason: 'SYN rate over 20/1s', by: 'detector:synFlood', offense: 1 },
        { address: '2001:db8::9', family: 6, since: 900_000, until: 4_500_000, reason: 'manual', by: 'control', offense: 2 },
      ],
    },
    logsSuppressed: 55,
    reloads: { accepted: 2, rejected: 1 },
    eventLoop: { p50Ms: 0.5, p99Ms: 4.25, maxMs: 12, windowSeconds: 10 },
    dropSources: [
      { address: '192.0.2.9', drops: 180 },
      { address: '203.0.113.4', drops: 3 },
    ],
    http: { listen: '127.0.0.1:9469', url: 'http://127.0.0.1:9469/', tokenFile: '/var/lib/vpsfw/http-token' },
    memory: { rss: 60_000_000, heapTotal: 12_000_000, heapUsed: 8_000_000, external: 2_000_000, arrayBuffers: 1_000_000 },
    ...over,
  };
}
