// The policy as the status snapshot summarizes it (vpsfw status, the dashboard): rules with their
// ports by side, limits, the detectors that run, payload rules without their patterns, bans.
import t from 'tap';
import { summarizePolicy } from '../../../agent/src/daemon/status.js';
import { parsePolicy } from '../../../agent/src/policy/load.js';

t.test('a policy, summarized', async (t) => {
  const loaded = parsePolicy(
    {
      version: 1,
      denyNetworks: ['203.0.113.0/24'],
      trustedInterfaces: ['wg0'],
      rules: [{ name: 'ssh', action: 'accept', protocol: 'tcp', ports: [22], source: ['198.51.100.0/24'] }, { name: 'dns-out', action: 'accept', direction: 'outbound', protocol: 'udp', remotePorts: [53], interfaces: ['eth0'] }],
      rateLimits: [{ name: 'web', protocol: 'tcp', ports: [443], rate: 50, burst: 100, ban: '10m' }],
      detectors: { portScan: { enabled: false } },
      payloadRules: [{ name: 'no-passwd', protocol: 'tcp', ports: [80], pattern: { text: '/etc/passwd' }, action: 'reject', depth: 4096 }],
    },
    'p',
  );
  const s = summarizePolicy(loaded);
  t.equal(s.source, 'p');
  t.equal(s.hash, loaded.hash);
  t.same(s.defaults, { inbound: 'drop', outbound: 'accept', malformed: 'drop' });
  t.same(s.rules, ['ssh: accept inbound tcp local 22 from 198.51.100.0/24', 'dns-out: accept outbound udp remote 53 on eth0'], 'ports by side');
  t.same(s.rateLimits, ['web: inbound tcp local 443 50/1s burst 100, ban 10m']);
  t.same(s.detectors.map((d) => d.split(':')[0]), ['synFlood', 'icmpFlood', 'oversizedIcmp'], 'the port-scan detector is off');
  t.same(s.payloadRules, ['no-passwd: reject inbound tcp local 80 (text pattern, first 4096 bytes), no ban']);
  t.notMatch(JSON.stringify(s), /etc\/passwd/, 'the pattern itself is not shown');
  t.equal(s.denyNetworks, 1);
  t.same(s.trustedInterfaces, ['wg0']);
  t.same(s.allowlist, ['127.0.0.0/8', '::1/128']);
  t.match(s.bans, /^1h, ×2 for each repeat up to 1w, at most 100000$/);
});
