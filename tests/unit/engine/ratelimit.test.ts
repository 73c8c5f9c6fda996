// Rate limits: per source, only on matching direction/protocol/ports, drop with or without a ban.
import t from 'tap';
import { RateLimits } from '../../../agent/src/engine/ratelimit.js';
import { parsePolicy } from '../../../agent/src/policy/load.js';
import type { PolicyInput } from '../../../agent/src/policy/schema.js';
import { addressKey } from '../../../agent/src/tables/address-key.js';
import { tcp, udp, V4 } from '../../lib/fake-packet.js';

const limits = (rateLimits: PolicyInput['rateLimits']) => new RateLimits(parsePolicy({ version: 1, rateLimits }, 'test').policy, 1000);

t.test('over the limit: dropped with a ban when the limit bans', async (t) => {
  const r = limits([{ name: 'ssh', protocol: 'tcp', ports: [22], rate: 2, per: '1m', burst: 3, ban: '15m' }]);
  const ssh = tcp({ dstPort: 22 });
  for (let i = 0; i < 3; i++) t.equal(r.check(ssh, 'inbound', 0), null, `connection ${i + 1} within burst`);
  const v = r.check(ssh, 'inbound', 0);
  t.same(v && [v.action, v.by, v.ban], ['drop', { kind: 'ratelimit', name: 'ssh' }, { durationMs: 900_000 }]);
  t.equal(v?.reason, 'over 2/1m (burst 3)', 'the reason names the limit (the log line and the ban name the source)');
  t.equal(r.check(ssh, 'inbound', 30_000), null, 'a token comes back after per/rate');
  t.not(r.check(ssh, 'inbound', 30_000), null);
});

t.test('without ban: dropped only', async (t) => {
  const r = limits([{ name: 'dns', protocol: 'udp', ports: [53], rate: 1, burst: 1 }]);
  r.check(udp({ dstPort: 53 }), 'inbound', 0);
  const v = r.check(udp({ dstPort: 53 }), 'inbound', 0);
  t.equal(v?.action, 'drop');
  t.equal(v?.ban, undefined);
});

t.test('only matching packets count; sources are independent', async (t) => {
  const r = limits([{ name: 'web', protocol: 'tcp', ports: ['80-81'], rate: 1, burst: 1 }]);
  t.equal(r.check(tcp({ dstPort: 80 }), 'inbound', 0), null);
  t.equal(r.check(tcp({ dstPort: 443 }), 'inbound', 0), null, 'other port');
  t.equal(r.check(udp({ dstPort: 80 }), 'inbound', 0), null, 'other protocol');
  t.equal(r.check(tcp({ dstPort: 80 }), 'outbound', 0), null, 'other direction');
  t.equal(r.check(tcp({ dstPort: 81, src: V4.other }), 'inbound', 0), null, 'other source');
  t.not(r.check(tcp({ dstPort: 81 }), 'inbound', 0), null, 'the first source, same limit, another port in it');
  t.equal(r.tracked, 2);
  r.forget(addressKey(V4.client));
  t.equal(r.check(tcp({ dstPort: 80 }), 'inbound', 0), null, 'forgotten source starts afresh');
});

t.test('an outbound limit never bans (the source is this server)', async (t) => {
  const r = limits([{ name: 'smtp-out', direction: 'outbound', protocol: 'tcp', ports: [25], rate: 1, burst: 1, ban: '1h' }]);
  r.check(tcp({ dstPort: 25, src: V4.server, dst: V4.client }), 'outbound', 0);
  const v = r.check(tcp({ dstPort: 25, src: V4.server, dst: V4.client }), 'outbound', 0);
  t.equal(v?.action, 'drop');
  t.equal(v?.ban, undefined);
});

t.test('several limits: the first that runs out decides', async (t) => {
  const r = limits([
    { name: 'all-tcp', protocol: 'tcp', rate: 1, burst: 5 },
    { name: 'ssh', protocol: 'tcp', ports: [22], rate: 1, burst: 1 },
  ]);
  t.equal(r.check(tcp({ dstPort: 22 }), 'inbound', 0), null);
  t.equal(r.check(tcp({ dstPort: 22 }), 'inbound', 0)?.by.name, 'ssh');
});
