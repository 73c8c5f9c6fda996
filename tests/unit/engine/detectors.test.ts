// The detectors on their own, with time passed by hand: exactly at and just over each threshold,
// refill after time passes, per-source independence, the total SYN limit (which spares sources
// already seen), oversized echoes, port scans within and across windows.
import t from 'tap';
import { IcmpDetector, KNOWN_SOURCE_MS, PortScanDetector, SynFloodDetector } from '../../../agent/src/engine/detectors.js';
import { addressKey } from '../../../agent/src/tables/address-key.js';
import { parsePolicy } from '../../../agent/src/policy/load.js';
import type { PolicyInput } from '../../../agent/src/policy/schema.js';
import { TCP_ACK, TCP_SYN } from '../../../agent/src/packet/types.js';
import { icmp, tcp, udp, V4, V6 } from '../../lib/fake-packet.js';

const detectors = (d: PolicyInput['detectors']) => parsePolicy({ version: 1, detectors: d }, 'test').policy.detectors;

t.test('SYN flood per source: burst passes, the next is dropped and banned; refills', async (t) => {
  const syn = new SynFloodDetector(detectors({ synFlood: { perSource: { rate: 20, burst: 40 }, ban: '10m' } }).synFlood, 1000);
  for (let i = 0; i < 40; i++) t.equal(syn.check(tcp(), 0), null, `SYN ${i + 1}`);
  const v = syn.check(tcp(), 0);
  t.same(v && [v.action, v.by, v.ban], ['drop', { kind: 'detector', name: 'synFlood' }, { durationMs: 600_000 }]);
  t.equal(v?.reason, 'SYN rate over 20/1s', 'the reason names the limit (the log line and the ban name the source)');
  t.equal(syn.check(tcp({ src: V6.client }), 0), null, 'an IPv6 source has its own bucket');
  t.equal(syn.check(tcp({ src: V4.other }), 0), null, 'another source has its own bucket');
  t.not(syn.check(tcp(), 49), null, 'still empty before 1/rate');
  t.equal(syn.check(tcp(), 50), null, 'one token after 50 ms');
  t.equal(syn.check(tcp({ flags: TCP_ACK }), 50), null, 'not a SYN: not counted');
  t.equal(syn.check(tcp({ flags: TCP_SYN | TCP_ACK }), 50), null, 'SYN-ACK is not a new connection');
  t.equal(syn.check(udp(), 50), null);
});

t.test('SYN flood in total: many new sources, dropped without ban', async (t) => {
  const syn = new SynFloodDetector(detectors({ synFlood: { perSource: { rate: 100, burst: 100 }, total: { rate: 10, burst: 5 } } }).synFlood, 1000);
  for (let i = 0; i < 5; i++) t.equal(syn.check(tcp({ src: `198.51.100.${i}` }), 0), null);
  const v = syn.check(tcp({ src: '198.51.100.99' }), 0);
  t.same(v && [v.action, v.by, v.ban], ['drop', { kind: 'detector', name: 'synFloodTotal' }, undefined]);
  t.not(syn.check(tcp({ src: '198.51.100.98' }), 0), null, 'another new source at the same instant: dropped too');
  t.equal(syn.check(tcp({ src: '198.51.100.97' }), 100), null, 'refilled after 100 ms');
});

t.test('SYN flood in total: sources already seen are spared, for KNOWN_SOURCE_MS after their last SYN', async (t) => {
  const syn = new SynFloodDetector(detectors({ synFlood: { perSource: { rate: 20, burst: 40 }, total: { rate: 1, burst: 1 } } }).synFlood, 1000);
  t.equal(syn.check(tcp({ src: V4.client }), 0), null, 'the client connects before the flood');
  for (let i = 0; i < 5; i++) syn.check(tcp({ src: `203.0.113.${i}` }), 10);
  t.not(syn.check(tcp({ src: '203.0.113.200' }), 10), null, 'a new source during the flood: over the total');
  t.equal(syn.check(tcp({ src: V4.client }), 10), null, 'the known client is not');
  t.equal(syn.check(tcp({ src: '203.0.113.200' }), 20), null, 'nor the new source retrying (its SYN made it known)');
  syn.sweep(20 + KNOWN_SOURCE_MS - 1);
  t.equal(syn.check(tcp({ src: V4.client }), 20 + KNOWN_SOURCE_MS - 1), null, 'kept by the sweep while recently seen');
  syn.sweep(20 + 2 * KNOWN_SOURCE_MS);
  t.equal(syn.tracked, 0, 'forgotten after KNOWN_SOURCE_MS without a SYN');
  t.equal(syn.check(tcp({ src: '203.0.113.201' }), 20 + 2 * KNOWN_SOURCE_MS), null, 'a new source takes the refilled total');
  t.not(syn.check(tcp({ src: V4.client }), 20 + 2 * KNOWN_SOURCE_MS), null, 'the client is new again, and the total is spent');
  t.equal(syn.check(tcp({ src: V4.client }), 20 + 2 * KNOWN_SOURCE_MS), null, 'its retry passes');
});

t.test('SYN flood disabled: nothing to say', async (t) => {
  const syn = new SynFloodDetector(detectors({ synFlood: { enabled: false, perSource: { rate: 1, burst: 1 } } }).synFlood, 1000);
  for (let i = 0; i < 5; i++) t.equal(syn.check(tcp(), 0), null);
});

t.test('ICMP flood on echo requests, v4 and v6; replies and other types not counted', async (t) => {
  const d = new IcmpDetector(detectors({ icmpFlood: { perSource: { rate: 10, burst: 3 }, ban: '5m' } }), 1000);
  for (const src of [V4.client, V6.client]) {
    for (let i = 0; i < 3; i++) t.equal(d.check(icmp({ src }), 0), null, `${src} echo ${i + 1}`);
    const v = d.check(icmp({ src }), 0);
    t.same(v && [v.action, v.by, v.ban], ['drop', { kind: 'detector', name: 'icmpFlood' }, { durationMs: 300_000 }], `${src} over the burst`);
    t.equal(d.check(icmp({ src }), 100), null, `${src} refilled`);
  }
  for (let i = 0; i < 10; i++) t.equal(d.check(icmp({ src: V4.other, type: 0 }), 0), null, 'echo replies are not counted');
  for (let i = 0; i < 10; i++) t.equal(d.check(icmp({ src: V6.other, type: 135 }), 0), null, 'neighbour solicitations are not counted');
});

t.test('oversized echo: at the limit passes, one byte over is dropped; ban only when set', async (t) => {
  const d = new IcmpDetector(detectors({ oversizedIcmp: { maxBytes: 1024, ban: false } }), 1000);
  t.equal(d.check(icmp({ length: 1024 }), 0), null);
  const v = d.check(icmp({ length: 1025 }), 0);
  t.same(v && [v.action, v.by, v.ban], ['drop', { kind: 'detector', name: 'oversizedIcmp' }, undefined]);
  t.equal(d.check(icmp({ length: 5000, type: 0 }), 0), null, 'a big echo reply is not an echo request');
  const banning = new IcmpDetector(detectors({ oversizedIcmp: { maxBytes: 100, ban: '1m' } }), 1000);
  t.same(banning.check(icmp({ src: V6.client, length: 101 }), 0)?.ban, { durationMs: 60_000 });
});

t.test('port scan: more than `ports` distinct ports within the window → drop and ban', async (t) => {
  const s = new PortScanDetector(detectors({ portScan: { ports: 3, window: '10s', ban: '1h' } }).portScan, 1000);
  for (const port of [1, 2, 3, 3, 2, 1]) t.equal(s.check(tcp({ dstPort: port }), 0), null, `port ${port}: at most 3 distinct`);
  const v = s.check(udp({ dstPort: 4 }), 5000);
  t.same(v && [v.action, v.by, v.ban], ['drop', { kind: 'detector', name: 'portScan' }, { durationMs: 3_600_000 }], 'the 4th distinct port (udp counts too)');
  t.equal(s.check(tcp({ dstPort: 1, src: V4.other }), 5000), null, 'other sources are separate');
  t.equal(s.check(icmp(), 5000), null, 'ICMP has no port');
});

t.test('port scan: the window expires', async (t) => {
  const s = new PortScanDetector(detectors({ portScan: { ports: 3, window: '10s' } }).portScan, 1000);
  for (const port of [1, 2, 3]) s.check(tcp({ dstPort: port }), 0);
  t.equal(s.check(tcp({ dstPort: 4 }), 10_001), null, 'a new window starts after 10 s');
  t.equal(s.check(tcp({ dstPort: 5 }), 10_002), null);
  t.equal(s.check(tcp({ dstPort: 6 }), 10_003), null);
  t.not(s.check(tcp({ dstPort: 7 }), 10_004), null, '4 distinct in the new window');
  t.equal(s.tracked, 1);
  s.sweep(20_001);
  t.equal(s.tracked, 1, 'within its window (from 10 001 ms): kept');
  s.sweep(20_002);
  t.equal(s.tracked, 0, 'expired windows are swept');
});

t.test('port scan: forget restarts a source', async (t) => {
  const s = new PortScanDetector(detectors({ portScan: { ports: 2 } }).portScan, 1000);
  s.check(tcp({ dstPort: 1 }), 0);
  s.check(tcp({ dstPort: 2 }), 0);
  s.forget(addressKey(V4.client));
  t.equal(s.check(tcp({ dstPort: 3 }), 0), null);
});
