// Learning's pure parts: conntrack, agent-event and ss parsing; the proposal; the diff.
import t from 'tap';
import { policyDiff } from '../../../agent/src/learn/diff.js';
import { parseAgentEvent, parseConntrackEvent, parseSs, type Observation } from '../../../agent/src/learn/observations.js';
import { propose } from '../../../agent/src/learn/propose.js';
import { Policy } from '../../../agent/src/policy/schema.js';

t.test('parsers', async (t) => {
  t.same(parseConntrackEvent('[1764581644.021337]\t    [NEW] tcp      6 120 SYN_SENT src=198.51.100.2 dst=198.51.100.1 sport=41234 dport=8080 [UNREPLIED] src=198.51.100.1 dst=198.51.100.2 sport=8080 dport=41234', 0), { at: 1764581644021, family: 4, protocol: 'tcp', src: '198.51.100.2', sport: 41234, dst: '198.51.100.1', dport: 8080 });
  t.match(parseConntrackEvent('    [NEW] udp      17 30 src=2001:db8:2::2 dst=2001:db8:2::1 sport=5000 dport=53 [UNREPLIED] src=2001:db8:2::1 dst=2001:db8:2::2 sport=53 dport=5000', 7), { at: 7, family: 6, protocol: 'udp', dport: 53 });
  t.equal(parseConntrackEvent('    [NEW] icmp     1 30 src=192.0.2.2 dst=192.0.2.1 type=8 code=0 id=1', 0), null);
  t.equal(parseConntrackEvent('conntrack v1.4.7 (conntrack-tools): 0 flow events have been shown.', 0), null);
  const ev = { level: 'info', time: '2026-12-01T09:30:00.000Z', event: 'drop', by: 'default', direction: 'inbound', family: 4, src: '192.0.2.9', dst: '192.0.2.1', proto: 'tcp', sport: 5555, dport: 23 };
  t.match(parseAgentEvent(JSON.stringify(ev)), { at: Date.parse(ev.time), src: '192.0.2.9', dport: 23 });
  t.match(parseAgentEvent(JSON.stringify({ ...ev, event: 'would-drop' })), { dport: 23 }, 'audit mode\'s events too');
  t.equal(parseAgentEvent(JSON.stringify({ ...ev, direction: 'outbound' })), null);
  t.equal(parseAgentEvent(JSON.stringify({ ...ev, proto: 'icmp' })), null);
  t.equal(parseAgentEvent('{"dport": 1'), null);
  t.same(parseSs('tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*\ntcp   LISTEN 0      511                *:8080            *:*\nudp   UNCONN 0      0        [fe80::1%eth0]:546     [::]:*\ntcp   LISTEN 0      4096     127.0.0.1:631      0.0.0.0:*\n'), [
    { protocol: 'tcp', address: '0.0.0.0', port: 22 },
    { protocol: 'tcp', address: '::', port: 8080 },
    { protocol: 'udp', address: 'fe80::1', port: 546 },
    { protocol: 'tcp', address: '127.0.0.1', port: 631 },
  ]);
});

const local = new Set(['192.0.2.1', '2001:db8::1', '127.0.0.1']);
const obs = (src: string, dport: number, at: number, sport = at + 1000): Observation => ({ at, family: src.includes(':') ? 6 : 4, protocol: 'tcp', src, sport, dst: src.includes(':') ? '2001:db8::1' : '192.0.2.1', dport });

t.test('proposal: used listening ports, per-family rules, rates at a percentile with headroom, deny candidates', async (t) => {
  const observations: Observation[] = [];
  // 100 web clients: 99 make 3 connections a minute, one makes 40 (above the 99th percentile).
  for (let c = 0; c < 100; c++) for (let i = 0; i < (c === 99 ? 40 : 3); i++) observations.push(obs(`198.51.100.${c}`, 443, i * 1000));
  observations.push(obs('2001:db8:5::1', 443, 0));
  observations.push(obs('198.51.100.7', 22, 0), obs('198.51.100.7', 22, 0), obs('198.51.100.7', 22, 500_000));
  for (const p of [23, 3389, 5900]) observations.push(obs('203.0.113.9', p, p));
  observations.push(obs('203.0.113.10', 23, 0)); // one try: not enough to deny
  observations.push(obs('203.0.113.11', 23, 0), obs('203.0.113.11', 25, 0), obs('203.0.113.11', 443, 0)); // used an open port too
  observations.push(obs('127.0.0.1', 631, 0), obs('192.0.2.1', 9999, 0));
  const p = propose({
    observations,
    listeners: [{ protocol: 'tcp', address: '::', port: 443 }, { protocol: 'tcp', address: '0.0.0.0', port: 22 }, { protocol: 'tcp', address: '0.0.0.0', port: 8080 }, { protocol: 'tcp', address: '127.0.0.1', port: 631 }],
    isLocal: (a) => local.has(a),
    current: { version: 1, rules: [{ name: 'no-telnet-net', action: 'drop', source: ['203.0.113.0/24'], protocol: 'tcp', ports: [23] }, { name: 'old-web', action: 'accept', protocol: 'tcp', ports: [80] }, { name: 'ping', action: 'accept', protocol: 'icmp' }], logSources: [{ name: 'sshd', kind: 'sshd', journal: 'ssh.service' }] },
  });
  const doc = p.policy as { rules: Array<{ name: string; source?: string[] }>; rateLimits: Array<{ name: string; rate: number; burst: number; per: string }>; denyNetworks: string[]; logSources: unknown[] };
  t.same(doc.rules.map((r) => r.name), ['no-telnet-net', 'learned-tcp-22', 'learned-tcp-443', 'ping'], 'refusals first, learned accepts, then ICMP; the unused accept is gone');
  t.same(doc.rules.find((r) => r.name === 'learned-tcp-22')!.source, ['0.0.0.0/0']);
  t.equal(doc.rules.find((r) => r.name === 'learned-tcp-443')!.source, undefined);
  const web = doc.rateLimits.find((r) => r.name === 'learned-rate-tcp-443')!;
  t.match(web, { rate: 10, per: '1m', burst: 5 }, 'p99 of busiest minutes is 3, ×2 = 6, floored to 10; the 40-a-minute source is the 1% above');
  t.equal(doc.rateLimits.find((r) => r.name === 'learned-rate-tcp-22')!.rate, 10, 'the same flow seen twice counts once');
  t.same(doc.denyNetworks, ['203.0.113.9/32']);
  t.same(doc.logSources, [{ name: 'sshd', kind: 'sshd', journal: 'ssh.service' }], 'the rest of the running policy is kept');
  t.ok(Policy.safeParse(p.policy).success, 'a valid policy');
  t.match(p.reasons.find((r) => r.item === 'denyNetworks.203.0.113.9/32')!.why, /tried 3 closed ports \(tcp\/23, tcp\/3389, tcp\/5900\) and never an open one/);
  t.equal(p.seen.sources, 104, "local sources are not counted");

  const heavier = propose({ observations, listeners: [{ protocol: 'tcp', address: '::', port: 443 }], isLocal: (a) => local.has(a), current: null, options: { percentile: 100, headroom: 1.5 } });
  t.match((heavier.policy.rateLimits as Array<{ rate: number; burst: number }>)[0], { rate: 60, burst: 5 }, 'at p100 the busiest source (40/min) ×1.5');
});

t.test('diff', async (t) => {
  t.same(policyDiff({ version: 1, rules: [{ name: 'a', action: 'accept', ports: [1] }, { name: 'b', action: 'drop' }], denyNetworks: ['192.0.2.0/24'] }, { version: 1, rules: [{ name: 'b', action: 'reject' }, { name: 'c', action: 'accept', ports: [2, 3] }], denyNetworks: ['198.51.100.9/32'], defaults: { inbound: 'drop' } }), [
    '- rules a: action=accept ports=1',
    '~ rules b: action=drop → action=reject',
    '+ rules c: action=accept ports=2,3',
    '- denyNetworks 192.0.2.0/24',
    '+ denyNetworks 198.51.100.9/32',
    '~ defaults: (default) → {"inbound":"drop"}',
  ]);
});
