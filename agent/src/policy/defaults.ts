// The built-in policy: what `vpsfw run` enforces with no file. Fit for a fresh VPS: SSH and the
// DHCP client reachable, replies to the server's own traffic accepted (kernel fast path), every
// other new inbound connection dropped, floods and scans banned.
import type { PolicyInput } from './schema.js';

export const defaultPolicyDocument: PolicyInput = {
  version: 1,
  queue: { num: 0, failMode: 'open' },
  defaults: { inbound: 'drop', outbound: 'accept', malformed: 'drop' },
  rules: [
    { name: 'ssh', action: 'accept', protocol: 'tcp', localPorts: [22] },
    // Leases are renewed with a broadcast, so the server's answer is not a tracked reply.
    { name: 'dhcp-client', action: 'accept', protocol: 'udp', localPorts: [68] },
    { name: 'dhcpv6-client', action: 'accept', protocol: 'udp', localPorts: [546] },
    { name: 'ping', action: 'accept', protocol: 'icmp' },
    { name: 'ping6', action: 'accept', protocol: 'icmpv6' },
  ],
  rateLimits: [{ name: 'ssh-connections', protocol: 'tcp', localPorts: [22], rate: 10, per: '1m', burst: 20, ban: '15m' }],
  detectors: {
    synFlood: { perSource: { rate: 20, burst: 40 }, ban: '10m' },
    icmpFlood: { perSource: { rate: 10, burst: 20 }, ban: '10m' },
    oversizedIcmp: { maxBytes: 1024, ban: false },
    portScan: { ports: 12, window: '10s', ban: '1h' },
  },
  bans: { duration: '1h', escalation: { factor: 2, max: '7d' }, allowlist: ['127.0.0.0/8', '::1/128'] },
  logging: { level: 'info' },
};
