// The one snapshot of the running agent: `vpsfw status` prints it, the stats event logs it, and
// metrics, `vpsfw top` and the dashboard read the same object. Built on demand from where each
// thing is counted (engine, queue, ban store, kernel counters), never on the packet path.
// docs/observability.md says what each field means.
import type { BanStats } from '../bans/store.js';
import type { CrowdsecStatus } from '../crowdsec/crowdsec.js';
import type { EngineStats } from '../engine/engine.js';
import type { HookPosition } from '../kernel/apply.js';
import type { KernelCounters } from '../kernel/counters.js';
import type { LoadedPolicy } from '../policy/load.js';
import { formatCidr, formatDuration, type PortRange } from '../policy/units.js';
import type { LogSourceStats } from '../logsources/sources.js';
import type { KernelQueueStats } from '../queue/types.js';
import type { DropSource } from './drop-sources.js';
import type { EventLoopDelay } from './event-loop.js';

/** How many of the sources refused most the snapshot lists. */
export const TOP_DROP_SOURCES = 10;

/** The HTTP listener, when it is on: where, and where its token is (never the token itself). */
export interface HttpStatus {
  listen: string;
  url: string;
  tokenFile: string;
}

export interface AgentStatus extends EngineStats {
  version: string;
  pid: number;
  uptimeSeconds: number;
  /** `audit`: everything judged, nothing enforced (docs/policy.md, mode). */
  mode: 'enforce' | 'audit';
  policy: PolicySummary;
  /** Where our jumps are (1 = top of the built-in chain, 0 = missing). */
  kernel: { hooks: HookPosition[]; counters: KernelCounters };
  queue: {
    num: number;
    failMode: 'open' | 'closed';
    maxLen: number;
    /** Packets the agent judged. */
    received: number;
    /** Packets the kernel sent to the queue that the agent never judged (overflow, no listener): see docs/architecture.md. */
    unjudged: number;
    /** True while unjudged packets keep coming (the overflow watch's view). */
    overflowing: boolean;
    /** The kernel's view of the queue, or null when it lists none. */
    kernel: KernelQueueStats | null;
    /** NFLOG copies of refused packets the detectors saw. */
    observed: number;
  };
  bans: BanStats;
  logsSuppressed: number;
  reloads: { accepted: number; rejected: number };
  /** What each log source has read and done (docs/logsources.md). */
  logSources: LogSourceStats[];
  /** The CrowdSec bouncer and machine (docs/fleet.md, Status); null without a `crowdsec` section. */
  crowdsec: CrowdsecStatus | null;
  /** The sources whose packets the agent refused or saw refused most (daemon/drop-sources.ts). */
  dropSources: DropSource[];
  http: HttpStatus | null;
  memory: NodeJS.MemoryUsage;
  /** How late the event loop ran its timers over the last window, in milliseconds: the agent's own latency. */
  eventLoopDelayMs: EventLoopDelay;
}

export interface PolicySummary {
  source: string;
  hash: string;
  defaults: { inbound: string; outbound: string; malformed: string };
  /** The static rules as one line each: "ssh: accept inbound tcp local 22". */
  rules: string[];
  /** "web: inbound tcp local 443 50/1s burst 100, ban 10m". */
  rateLimits: string[];
  /** The detectors that run, one line each with their limits. */
  detectors: string[];
  /** Payload rules without their patterns: "no-passwd: reject inbound tcp local 80 (text pattern), no ban". */
  payloadRules: string[];
  /** "1h, ×2 for each repeat up to 1w, at most 100000". */
  bans: string;
  allowlist: string[];
  trustedInterfaces: string[];
  denyNetworks: number;
}

const ports = (label: string, r: readonly PortRange[] | undefined) => (r ? ` ${label} ${r.map((x) => (x.from === x.to ? `${x.from}` : `${x.from}-${x.to}`)).join(',')}` : '');
const sides = (r: { localPorts?: readonly PortRange[] | undefined; remotePorts?: readonly PortRange[] | undefined }) => `${ports('local', r.localPorts)}${ports('remote', r.remotePorts)}`;
const ban = (b: number | false) => (b === false ? 'no ban' : `ban ${formatDuration(b)}`);
const rate = (r: { rate: number; per: number; burst: number }) => `${r.rate}/${formatDuration(r.per)} burst ${r.burst}`;

export function summarizePolicy(p: LoadedPolicy): PolicySummary {
  const policy = p.policy;
  const d = policy.detectors;
  const on = (enabled: boolean, text: string) => (enabled ? [text] : []);
  return {
    source: p.source,
    hash: p.hash,
    defaults: { ...policy.defaults },
    rules: policy.rules.map(
      (r) => `${r.name}: ${r.action} ${r.direction} ${r.protocol}${sides(r)}${r.source ? ` from ${r.source.map(formatCidr).join(',')}` : ''}${r.interfaces ? ` on ${r.interfaces.join(',')}` : ''}`,
    ),
    rateLimits: policy.rateLimits.map((r) => `${r.name}: ${r.direction} ${r.protocol}${sides(r)} ${rate(r)}, ${ban(r.ban)}`),
    detectors: [
      ...on(d.synFlood.enabled, `synFlood: ${rate(d.synFlood.perSource)} per source, ${rate(d.synFlood.total)} in all, ${ban(d.synFlood.ban)}`),
      ...on(d.icmpFlood.enabled, `icmpFlood: ${rate(d.icmpFlood.perSource)} per source, ${ban(d.icmpFlood.ban)}`),
      ...on(d.oversizedIcmp.enabled, `oversizedIcmp: over ${d.oversizedIcmp.maxBytes} bytes, ${ban(d.oversizedIcmp.ban)}`),
      ...on(d.portScan.enabled, `portScan: ${d.portScan.ports} closed ports in ${formatDuration(d.portScan.window)}, ${ban(d.portScan.ban)}`),
    ],
    payloadRules: policy.payloadRules.map((r) => `${r.name}: ${r.action} ${r.direction} ${r.protocol}${sides(r)} (${Object.keys(r.pattern)[0]} pattern${r.depth ? `, first ${r.depth} bytes` : ''}), ${ban(r.ban)}`),
    bans: `${formatDuration(policy.bans.duration)}, ×${policy.bans.escalation.factor} for each repeat up to ${formatDuration(policy.bans.escalation.max)}, at most ${policy.bans.maxEntries}`,
    allowlist: policy.bans.allowlist.map(formatCidr),
    trustedInterfaces: [...policy.trustedInterfaces],
    denyNetworks: policy.denyNetworks.length,
  };
}
