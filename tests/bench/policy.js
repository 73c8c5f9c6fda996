// The realistic policy the agent rows enforce: allow/deny rules, rate limits, the detectors, one
// payload rule on the flooded port (so every flood packet is also scanned). Fail-closed and a
// 1024-packet queue, like the accept-all rows: a full queue must drop, not let unjudged packets
// through and inflate the count.
import { ECHO_PORT, FLOOD_PORT } from './measure.js';

export const WEB_PORT = 8080;

export const benchPolicy = {
  version: 1,
  queue: { num: 0, failMode: 'closed', maxLen: 1024 },
  defaults: { inbound: 'drop', outbound: 'accept' },
  denyNetworks: ['203.0.113.0/24', '2001:db8:bad::/48'],
  rules: [
    { name: 'ssh', action: 'accept', protocol: 'tcp', ports: [22] },
    { name: 'no-telnet', action: 'reject', protocol: 'tcp', ports: [23] },
    { name: 'web', action: 'accept', protocol: 'tcp', ports: [80, 443, WEB_PORT, 5201] },
    { name: 'dns-from-lan', action: 'accept', protocol: 'udp', ports: [53], source: ['10.0.0.0/8'] },
    { name: 'bench-udp', action: 'accept', protocol: 'udp', ports: [FLOOD_PORT, ECHO_PORT] },
    { name: 'ping', action: 'accept', protocol: 'icmp' },
    { name: 'ping6', action: 'accept', protocol: 'icmpv6' },
  ],
  rateLimits: [
    { name: 'ssh-connections', protocol: 'tcp', ports: [22], rate: 10, per: '1m', burst: 20, ban: '15m' },
    { name: 'dns', protocol: 'udp', ports: [53], rate: 100, burst: 200 },
  ],
  payloadRules: [{ name: 'bench-marker', protocol: 'udp', ports: [FLOOD_PORT], pattern: { text: 'EVIL-MARKER' }, action: 'drop' }],
};
