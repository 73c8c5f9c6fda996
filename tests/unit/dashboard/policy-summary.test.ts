// The dashboard's reading of the policy: rules, limits, detectors that run, payload rules without
// their patterns, bans.
import t from 'tap';
import { summarizePolicy } from '../../../agent/src/dashboard/policy-summary.js';
import { parsePolicy } from '../../../agent/src/policy/load.js';

t.test('a policy, summarized', async (t) => {
  const { policy } = parsePolicy(
    {
      version: 1,
      queue: { failMode: 'closed' },
      denyNetworks: ['203.0.113.0/24'],
      rules: [{ name: 'ssh', action: 'accept', protocol: 'tcp', ports: [22], source: ['198.51.100.0/24'] }],
      rateLimits: [{ name: 'web', protocol: 'tcp', ports: [443], rate: 50, burst: 100, ban: '10m' }],
      detectors: { portScan: { enabled: false } },
      payloadRules: [{ name: 'no-passwd', protocol: 'tcp', ports: [80], pattern: { text: '/etc/passwd' }, action: 'reject', depth: 4096 }],
    },
    'p',
  );
  const s = summarizePolicy(policy);
  t.equal(s.failMode, 'closed');
  t.same(s.defaults, { inbound: 'drop', outbound: 'accept', malformed: 'drop' });
  t.same(s.rules, ['ssh: accept inbound tcp port 22 from 198.51.100.0/24']);
  t.same(s.rateLimits, ['web: inbound tcp port 443 50/1s burst 100, ban 10m']);
  t.same(s.detectors.map((d) => d.split(':')[0]), ['synFlood', 'icmpFlood', 'oversizedIcmp'], 'the port-scan detector is off');
  t.same(s.payloadRules, ['no-passwd: reject inbound tcp port 80 (text pattern, first 4096 bytes), no ban']);
  t.notMatch(JSON.stringify(s), /etc\/passwd/, 'the pattern itself is not shown');
  t.equal(s.denyNetworks, 1);
  t.same(s.allowlist, ['127.0.0.0/8', '::1/128']);
  t.match(s.bans, /^1h, ×2 for each repeat up to 1w, at most 100000$/);
});
