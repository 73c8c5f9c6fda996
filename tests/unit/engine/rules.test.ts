// Static rules: first match wins, else the direction's default; CIDRs of the packet's family,
// port ranges, protocols (any, icmp for v4, icmpv6 for v6), direction.
import t from 'tap';
import { StaticRules } from '../../../agent/src/engine/rules.js';
import { parsePolicy } from '../../../agent/src/policy/load.js';
import type { PolicyInput } from '../../../agent/src/policy/schema.js';
import { icmp, laterFragment, tcp, udp, V6 } from '../../lib/fake-packet.js';

const rules = (doc: Omit<PolicyInput, 'version'>) => new StaticRules(parsePolicy({ version: 1, ...doc }, 'test').policy, () => undefined);

t.test('first match wins; no match falls to the default of the direction', async (t) => {
  const r = rules({
    defaults: { inbound: 'reject', outbound: 'drop' },
    rules: [
      { name: 'no-web-from-bad', action: 'drop', protocol: 'tcp', ports: [80], source: ['192.0.2.3'] },
      { name: 'web', action: 'accept', protocol: 'tcp', ports: [80, 443] },
      { name: 'web-again', action: 'drop', protocol: 'tcp', ports: [80] },
    ],
  });
  t.same(r.judge(tcp({ dstPort: 80 }), 'inbound').by, { kind: 'rule', name: 'web' });
  t.same(r.judge(tcp({ dstPort: 80, src: '192.0.2.3' }), 'inbound').by, { kind: 'rule', name: 'no-web-from-bad' });
  t.equal(r.judge(tcp({ dstPort: 80, src: '192.0.2.3' }), 'inbound').action, 'drop');
  const miss = r.judge(tcp({ dstPort: 22 }), 'inbound');
  t.same([miss.action, miss.by], ['reject', { kind: 'default', name: 'inbound' }]);
  const out = r.judge(tcp({ dstPort: 80 }), 'outbound');
  t.same([out.action, out.by], ['drop', { kind: 'default', name: 'outbound' }], 'inbound rules do not match outbound packets');
  t.ok(r.judge(tcp({ dstPort: 80 }), 'inbound').reason.length > 0, 'a verdict has a reason');
});

t.test('port ranges: inclusive at both ends', async (t) => {
  const r = rules({ rules: [{ name: 'range', action: 'accept', protocol: 'udp', ports: ['8000-8100', 9000] }] });
  for (const [port, name] of [[7999, 'inbound'], [8000, 'range'], [8100, 'range'], [8101, 'inbound'], [9000, 'range'], [9001, 'inbound']] as const) {
    t.equal(r.judge(udp({ dstPort: port }), 'inbound').by.name, name, `port ${port}`);
  }
  t.equal(r.judge(tcp({ dstPort: 8050 }), 'inbound').by.name, 'inbound', 'udp rule, tcp packet');
});

t.test('protocols: any, tcp, icmp only for IPv4, icmpv6 only for IPv6', async (t) => {
  const r = rules({
    rules: [
      { name: 'ping', action: 'accept', protocol: 'icmp' },
      { name: 'ping6', action: 'accept', protocol: 'icmpv6' },
    ],
  });
  t.equal(r.judge(icmp(), 'inbound').by.name, 'ping');
  t.equal(r.judge(icmp({ src: V6.client }), 'inbound').by.name, 'ping6');
  t.equal(r.judge(tcp(), 'inbound').by.name, 'inbound');
  const any = rules({ rules: [{ name: 'all', action: 'accept' }] });
  for (const p of [tcp(), udp(), icmp(), icmp({ src: V6.client }), tcp({ src: V6.client })]) t.equal(any.judge(p, 'inbound').by.name, 'all');
});

t.test('a later fragment matches its protocol but no port rule', async (t) => {
  const r = rules({
    rules: [
      { name: 'ssh', action: 'accept', protocol: 'tcp', ports: [22] },
      { name: 'tcp-from-net', action: 'reject', protocol: 'tcp', source: ['192.0.2.0/24'] },
    ],
  });
  t.equal(r.judge(laterFragment(), 'inbound').by.name, 'tcp-from-net');
});

t.test('CIDRs: source and destination, family of the packet, boundaries', async (t) => {
  const r = rules({
    rules: [
      { name: 'v4-net', action: 'accept', source: ['198.51.100.0/25'] },
      { name: 'v6-net', action: 'accept', source: ['2001:db8:1::/48'] },
      { name: 'to-v6', action: 'reject', destination: ['2001:db8::1'] },
      { name: 'v4-or-v6-dst', action: 'accept', destination: ['192.0.2.0/24', '2001:db8:ffff::/48'] },
    ],
  });
  t.equal(r.judge(tcp({ src: '198.51.100.127', dst: '203.0.113.1' }), 'inbound').by.name, 'v4-net');
  t.equal(r.judge(tcp({ src: '198.51.100.128', dst: '203.0.113.1' }), 'inbound').by.name, 'inbound', 'just outside /25');
  t.equal(r.judge(tcp({ src: '2001:db8:1:ffff::9', dst: '2001:db8::2' }), 'inbound').by.name, 'v6-net');
  t.equal(r.judge(tcp({ src: '2001:db8:2::9', dst: '2001:db8::1' }), 'inbound').by.name, 'to-v6', 'v4-only source rule skipped for v6');
  t.equal(r.judge(tcp({ src: '203.0.113.9', dst: '192.0.2.200' }), 'inbound').by.name, 'v4-or-v6-dst');
  t.equal(r.judge(tcp({ src: '2001:db8:2::9', dst: '2001:db8:ffff::1' }), 'inbound').by.name, 'v4-or-v6-dst');
  t.equal(r.judge(tcp({ src: '203.0.113.9', dst: '198.18.0.1' }), 'inbound').by.name, 'inbound');
});

t.test('outbound rules match outbound packets only', async (t) => {
  const r = rules({ defaults: { outbound: 'accept' }, rules: [{ name: 'no-smtp-out', action: 'reject', direction: 'outbound', protocol: 'tcp', ports: [25] }] });
  t.equal(r.judge(tcp({ dstPort: 25 }), 'outbound').by.name, 'no-smtp-out');
  t.equal(r.judge(tcp({ dstPort: 25 }), 'inbound').by.name, 'inbound');
});
