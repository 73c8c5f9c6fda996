// What the dashboard shows of the policy in force: who may connect where, what watches, how bans
// go. Text only, made for reading; the policy file stays the reference (`vpsfw render --format policy`).
import type { Policy } from '../policy/schema.js';
import { formatCidr, formatDuration, type Cidr, type PortRange } from '../policy/units.js';

export interface PolicySummary {
  failMode: string;
  defaults: { inbound: string; outbound: string; malformed: string };
  rules: string[];
  rateLimits: string[];
  detectors: string[];
  payloadRules: string[];
  bans: string;
  denyNetworks: number;
  allowlist: string[];
}

const ports = (p: readonly PortRange[] | undefined) => (p ? ' port ' + p.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(',') : '');
const nets = (word: string, c: readonly Cidr[] | undefined) => (c ? ` ${word} ${c.map(formatCidr).join(',')}` : '');
const ban = (b: number | false) => (b === false ? 'no ban' : `ban ${formatDuration(b)}`);
const rate = (r: { rate: number; per: number; burst: number }) => `${r.rate}/${formatDuration(r.per)} burst ${r.burst}`;

export function summarizePolicy(p: Policy): PolicySummary {
  const d = p.detectors;
  const on = (enabled: boolean, text: string) => (enabled ? [text] : []);
  return {
    failMode: p.queue.failMode,
    defaults: { ...p.defaults },
    rules: p.rules.map((r) => `${r.name}: ${r.action} ${r.direction} ${r.protocol}${ports(r.ports)}${nets('from', r.source)}${nets('to', r.destination)}`),
    rateLimits: p.rateLimits.map((r) => `${r.name}: ${r.direction} ${r.protocol}${ports(r.ports)} ${rate(r)}, ${ban(r.ban)}`),
    detectors: [
      ...on(d.synFlood.enabled, `synFlood: ${rate(d.synFlood.perSource)} per source, ${rate(d.synFlood.total)} in all, ${ban(d.synFlood.ban)}`),
      ...on(d.icmpFlood.enabled, `icmpFlood: ${rate(d.icmpFlood.perSource)} per source, ${ban(d.icmpFlood.ban)}`),
      ...on(d.oversizedIcmp.enabled, `oversizedIcmp: over ${d.oversizedIcmp.maxBytes} bytes, ${ban(d.oversizedIcmp.ban)}`),
      ...on(d.portScan.enabled, `portScan: ${d.portScan.ports} closed ports in ${formatDuration(d.portScan.window)}, ${ban(d.portScan.ban)}`),
    ],
    payloadRules: p.payloadRules.map((r) => `${r.name}: ${r.action} ${r.direction} ${r.protocol}${ports(r.ports)} (${Object.keys(r.pattern)[0]} pattern${r.depth ? `, first ${r.depth} bytes` : ''}), ${ban(r.ban)}`),
    bans: `${formatDuration(p.bans.duration)}, ×${p.bans.escalation.factor} for each repeat up to ${formatDuration(p.bans.escalation.max)}, at most ${p.bans.maxEntries}`,
    denyNetworks: p.denyNetworks.length,
    allowlist: p.bans.allowlist.map(formatCidr),
  };
}
