// The pipeline: order of the stages, what each kind of packet goes through (established, refused,
// accepted, outbound), malformed packets, counters, forget, reload and sweep on the engine's clock.
import t from 'tap';
import { KNOWN_SOURCE_MS } from '../../../agent/src/engine/detectors.js';
import { Engine } from '../../../agent/src/engine/engine.js';
import { parsePolicy } from '../../../agent/src/policy/load.js';
import type { PolicyInput } from '../../../agent/src/policy/schema.js';
import { FakeClock, icmp, segment, tcp, udp, V4 } from '../../lib/fake-packet.js';

const policy = (doc: Omit<PolicyInput, 'version'>) => parsePolicy({ version: 1, ...doc }, 'test').policy;
const IN = { direction: 'inbound', established: false, ifindex: 2 } as const;
const EST = { direction: 'inbound', established: true, ifindex: 2 } as const;
const OUT = { direction: 'outbound', established: false, ifindex: 2 } as const;

const WEB: Omit<PolicyInput, 'version'> = {
  rules: [
    { name: 'web', action: 'accept', protocol: 'tcp', ports: [80] },
    { name: 'alt', action: 'accept', protocol: 'tcp', ports: ['8000-8100'] },
    { name: 'ping', action: 'accept', protocol: 'icmp' },
  ],
  payloadRules: [{ name: 'no-passwd', protocol: 'tcp', ports: [80], pattern: { text: '/etc/passwd' }, action: 'drop', ban: '1h' }],
};

function engine(doc: Omit<PolicyInput, 'version'>) {
  const clock = new FakeClock();
  return { e: new Engine(policy(doc), clock), clock };
}

t.test('established packets skip rules and detectors and go to the payload matcher only', async (t) => {
  const { e } = engine({ ...WEB, detectors: { synFlood: { perSource: { rate: 1, burst: 1 } } } });
  const v = e.judge(segment(1, 'hello', { dstPort: 22 }), EST);
  t.same([v.action, v.by], ['accept', { kind: 'flow', name: 'established' }], 'port 22 is closed to new packets, not to accepted flows');
  for (let i = 0; i < 5; i++) t.equal(e.judge(tcp({ dstPort: 22 }), EST).action, 'accept', 'no SYN flood count on established packets');
  t.equal(e.judge(segment(1, 'GET /etc/passwd'), EST).by.name, 'no-passwd');
});

t.test('a refused packet is not inspected; an accepted one goes on to payload rules', async (t) => {
  const { e } = engine({ ...WEB, rules: [{ name: 'web-closed', action: 'reject', protocol: 'tcp', ports: [80] }] });
  const v = e.judge(segment(1, 'GET /etc/passwd'), IN);
  t.same([v.action, v.by.name], ['reject', 'web-closed']);
  const open = engine(WEB).e;
  t.equal(open.judge(segment(1, 'GET /etc/passwd'), IN).by.name, 'no-passwd');
  t.same(open.judge(tcp(), IN).by, { kind: 'rule', name: 'web' }, 'nothing else to say: the rule decides');
});

t.test('rate limits come before the SYN flood detector', async (t) => {
  const { e } = engine({ ...WEB, rateLimits: [{ name: 'web-conn', protocol: 'tcp', ports: [80], rate: 1, burst: 2 }], detectors: { synFlood: { perSource: { rate: 1, burst: 2 } } } });
  e.judge(tcp(), IN);
  e.judge(tcp(), IN);
  t.same(e.judge(tcp(), IN).by, { kind: 'ratelimit', name: 'web-conn' });
});

t.test('floods on closed ports are still detected', async (t) => {
  const { e } = engine({ detectors: { synFlood: { perSource: { rate: 20, burst: 2 } }, portScan: { enabled: false } } });
  t.equal(e.judge(tcp({ dstPort: 23 }), IN).by.name, 'inbound');
  t.equal(e.judge(tcp({ dstPort: 23 }), IN).by.name, 'inbound');
  const v = e.judge(tcp({ dstPort: 23 }), IN);
  t.same([v.action, v.by.name, v.reason, v.ban], ['drop', 'synFlood', 'SYN rate over 20/1s', { durationMs: 600_000 }]);
});

t.test('ICMP: echo floods and oversized echoes on an accepted ping rule', async (t) => {
  const { e } = engine({ ...WEB, detectors: { icmpFlood: { perSource: { rate: 1, burst: 1 } }, oversizedIcmp: { maxBytes: 100 } } });
  t.equal(e.judge(icmp({ length: 84 }), IN).by.name, 'ping');
  t.equal(e.judge(icmp({ length: 84 }), IN).by.name, 'icmpFlood');
  t.equal(e.judge(icmp({ src: V4.other, length: 101 }), IN).by.name, 'oversizedIcmp');
});

t.test('port scan: closed ports count, open ports do not', async (t) => {
  const { e } = engine({ ...WEB, detectors: { portScan: { ports: 3, window: '10s', ban: '1h' } } });
  let open = 0;
  for (let port = 8000; port < 8030; port++) if (e.judge(tcp({ dstPort: port }), IN).by.name === 'alt') open++;
  t.equal(open, 30, '30 distinct open ports: all accepted');
  for (const port of [21, 22, 23]) t.equal(e.judge(udp({ dstPort: port }), IN).by.name, 'inbound');
  const v = e.judge(tcp({ dstPort: 25 }), IN);
  t.same([v.action, v.by.name, v.ban], ['drop', 'portScan', { durationMs: 3_600_000 }]);
});

t.test('outbound: no detectors (the source is this server); outbound rules and limits apply', async (t) => {
  const { e } = engine({
    defaults: { outbound: 'accept' },
    rules: [{ name: 'no-telnet-out', direction: 'outbound', action: 'reject', protocol: 'tcp', ports: [23] }],
    detectors: { synFlood: { perSource: { rate: 1, burst: 1 } }, portScan: { ports: 2 } },
  });
  const deciders = new Set<string>();
  for (let port = 1000; port < 1010; port++) deciders.add(e.judge(tcp({ src: V4.server, dst: V4.client, dstPort: port }), OUT).by.name);
  t.same([...deciders], ['outbound'], 'ten SYNs to ten ports: neither a SYN flood nor a scan');
  t.equal(e.judge(tcp({ src: V4.server, dst: V4.client, dstPort: 23 }), OUT).action, 'reject');
});

t.test('malformed packets get the policy verdict, named by reason', async (t) => {
  const drop = engine({}).e.judgeMalformed('bad-ihl');
  t.same([drop.action, drop.by], ['drop', { kind: 'malformed', name: 'bad-ihl' }]);
  t.equal(engine({ defaults: { malformed: 'accept' } }).e.judgeMalformed('truncated-l4-header').action, 'accept');
});

t.test('stats: verdicts by action, by decider, tracked sources and flows', async (t) => {
  const { e } = engine(WEB);
  e.judge(tcp({ seq: 999 }), IN);
  e.judge(tcp({ dstPort: 22 }), IN);
  e.judge(segment(1000, 'GET /etc/passwd'), EST);
  e.judgeMalformed('empty');
  e.judgeMalformed('empty');
  const s = e.stats();
  t.same(s.verdicts, { accept: 1, drop: 4, reject: 0 });
  t.same(s.decidedBy, { 'rule:web': 1, 'default:inbound': 1, 'payload:no-passwd': 1, 'malformed:empty': 2 });
  t.same(s.verdictsBy, { 'rule:web': { accept: 1 }, 'default:inbound': { drop: 1 }, 'payload:no-passwd': { drop: 1 }, 'malformed:empty': { drop: 2 } });
  t.same(s.payloadMatches, { 'no-passwd': 1 });
  t.same(s.detectorHits, {});
  t.equal(s.tracked.flows, 1);
  t.ok(s.tracked.sources >= 1, 'the SYN source is tracked');
});

t.test('stats: detector hits by detector; a decider keeps its counts per action across a reload', async (t) => {
  const { e } = engine({ detectors: { synFlood: { perSource: { rate: 20, burst: 1 } }, portScan: { enabled: false } } });
  e.judge(tcp({ dstPort: 23 }), IN);
  e.judge(tcp({ dstPort: 23 }), IN);
  e.judge(tcp({ dstPort: 23 }), IN);
  e.replacePolicy(policy({ defaults: { inbound: 'reject' } }));
  // Another source: the flooder's SYN state is carried over the reload.
  e.judge(tcp({ src: '198.51.100.50', dstPort: 24 }), IN);
  const s = e.stats();
  t.same(s.detectorHits, { synFlood: 2 });
  t.same(s.verdictsBy['default:inbound'], { drop: 1, reject: 1 }, 'the drop before the reload, the reject after');
  t.same(s.verdictsBy['detector:synFlood'], { drop: 2 });
});

t.test('forget drops a source’s state', async (t) => {
  const { e } = engine({ detectors: { synFlood: { perSource: { rate: 1, burst: 1 } } } });
  e.judge(tcp(), IN);
  t.equal(e.judge(tcp(), IN).by.name, 'synFlood');
  e.forget(V4.client);
  t.equal(e.judge(tcp(), IN).by.name, 'inbound');
});

t.test('replacePolicy: new rules at once, payload streams in flight kept', async (t) => {
  const { e } = engine(WEB);
  e.judge(tcp({ seq: 999 }), IN);
  e.judge(segment(1000, 'GET /etc/pa'), EST);
  e.replacePolicy(policy({ ...WEB, rules: [{ name: 'web2', action: 'accept', protocol: 'tcp', ports: [80] }] }));
  t.equal(e.judge(tcp({ srcPort: 2 }), IN).by.name, 'web2');
  t.equal(e.judge(segment(1011, 'sswd'), EST).by.name, 'no-passwd', 'the split pattern is still caught');
});

t.test('sweep runs on the engine clock', async (t) => {
  const { e, clock } = engine({ ...WEB, detectors: { synFlood: { perSource: { rate: 1, burst: 5 } } }, rateLimits: [{ name: 'web', protocol: 'tcp', ports: [80], rate: 1, burst: 5 }], limits: { flowIdle: '1s' } });
  e.judge(tcp(), IN);
  e.judge(segment(1, 'x'), EST);
  t.same(e.stats().tracked, { sources: 2, flows: 1, flowEvictions: 0 }, 'the SYN source in the rate limit and the SYN detector; one flow');
  clock.advance(10_000);
  e.sweep();
  t.same(e.stats().tracked, { sources: 1, flows: 0, flowEvictions: 0 }, 'the rate limit forgets a refilled bucket; the SYN detector keeps a known source');
  clock.advance(KNOWN_SOURCE_MS);
  e.sweep();
  t.same(e.stats().tracked, { sources: 0, flows: 0, flowEvictions: 0 });
});

t.test('the policy limits bound the tables', async (t) => {
  const { e } = engine({ ...WEB, limits: { sources: 16, flows: 16 } });
  for (let i = 0; i < 40; i++) {
    e.judge(tcp({ src: `198.51.100.${i}`, seq: 999 }), IN);
    e.judge(segment(1000, 'x', { src: `198.51.100.${i}` }), EST);
  }
  t.same(e.stats().tracked, { sources: 16, flows: 16, flowEvictions: 24 });
});

t.test('observe: what the kernel refused feeds the detectors only, and is counted apart', async (t) => {
  const { e } = engine({ ...WEB, detectors: { synFlood: { perSource: { rate: 1, burst: 2 } }, portScan: { ports: 3 } } });
  const seen = [1, 2, 3].map(() => e.observe(tcp({ dstPort: 9999 }), { direction: 'inbound', ifindex: 2 }));
  t.same(seen.map((v) => v.by.name), ['inbound', 'inbound', 'synFlood'], 'a SYN flood at a closed port earns its ban');
  t.ok(seen[2]!.ban, 'with a ban');
  const scan = [1, 2, 3, 4].map((i) => e.observe(udp({ src: '198.51.100.9', dstPort: 7000 + i }), { direction: 'inbound', ifindex: 2 }));
  t.equal(scan.at(-1)!.by.name, 'portScan');
  t.same(e.stats().observedBy, { 'default:inbound': 5, 'detector:synFlood': 1, 'detector:portScan': 1 });
  t.same(e.stats().detectorHits, { synFlood: 1, portScan: 1 }, 'detector hits count what they saw of the refused too');
  t.same(e.stats().decidedBy, {}, 'nothing judged: the kernel decided those');
  t.same(e.stats().verdictsBy, {});
  t.same(e.stats().verdicts, { accept: 0, drop: 0, reject: 0 });
});

t.test('echo requests queued from an established ping are judged as new ones (floods are counted)', async (t) => {
  const { e } = engine({ ...WEB, detectors: { icmpFlood: { perSource: { rate: 1, burst: 2 } } } });
  const v = [1, 2, 3].map(() => e.judge(icmp(), EST));
  t.same(v.map((x) => x.by.name), ['ping', 'ping', 'icmpFlood']);
});

t.test('interfaces: a rule naming interfaces matches packets on them only, prefixes with "+"', async (t) => {
  const names = new Map([[2, 'eth0'], [3, 'wg0'], [4, 'veth12']]);
  const e = new Engine(
    policy({
      rules: [
        { name: 'wg-dns', action: 'accept', protocol: 'udp', localPorts: [53], interfaces: ['wg0', 'veth+'] },
        { name: 'closed', action: 'drop', protocol: 'udp', localPorts: [53] },
      ],
      detectors: { portScan: { enabled: false } },
    }),
    { now: () => 0, interfaceName: (i) => names.get(i) },
  );
  const on = (ifindex: number) => e.judge(udp({ dstPort: 53 }), { direction: 'inbound', established: false, ifindex }).by.name;
  t.same([on(3), on(4), on(2), on(0)], ['wg-dns', 'wg-dns', 'closed', 'closed'], 'wg0 and veth12 match; eth0 and an unknown index do not');
});

t.test('ports by side: inbound local is the destination, outbound local the source', async (t) => {
  const { e } = engine({
    rules: [
      { name: 'dns-replies', action: 'accept', protocol: 'udp', remotePorts: [53] },
      { name: 'app-out', action: 'drop', direction: 'outbound', protocol: 'tcp', localPorts: [2222] },
    ],
    detectors: { portScan: { enabled: false } },
  });
  t.equal(e.judge(udp({ srcPort: 53, dstPort: 40000 }), IN).by.name, 'dns-replies', 'inbound from remote port 53');
  t.equal(e.judge(udp({ srcPort: 40000, dstPort: 53 }), IN).by.name, 'inbound', 'not to local port 53');
  t.equal(e.judge(tcp({ srcPort: 2222, dstPort: 40000 }), OUT).by.name, 'app-out', 'outbound from local port 2222');
  t.equal(e.judge(tcp({ srcPort: 40000, dstPort: 2222 }), OUT).by.name, 'outbound', 'not to a remote 2222');
});

t.test('a reload takes over the per-source tables: a flooding source gets no fresh start', async (t) => {
  const doc = { ...WEB, detectors: { synFlood: { perSource: { rate: 1, burst: 2 } } } };
  const { e } = engine(doc);
  e.judge(tcp(), IN);
  e.judge(tcp(), IN);
  e.replacePolicy(policy(doc));
  t.equal(e.judge(tcp(), IN).by.name, 'synFlood', 'still out of tokens after the reload');
  e.replacePolicy(policy({ ...doc, limits: { sources: 5000 } }));
  t.equal(e.judge(tcp(), IN).by.name, 'web', 'new table sizes start afresh');
  t.equal(e.stats().decidedBy['rule:web'], 3, 'counts survive the reloads: two before, one after');
});

t.test('observe: a denied network shown by the kernel (audit mode) is named as such', async (t) => {
  const { e } = engine({ ...WEB, denyNetworks: ['198.51.100.0/24'], detectors: { portScan: { enabled: false } } });
  t.same(e.observe(tcp({ src: '198.51.100.9', dstPort: 80 }), { direction: 'inbound', ifindex: 2 }).by, { kind: 'deny', name: 'denyNetworks' });
  t.same(e.observe(tcp({ dstPort: 9999 }), { direction: 'inbound', ifindex: 2 }).by, { kind: 'default', name: 'inbound' }, 'other sources: the rules');
});
