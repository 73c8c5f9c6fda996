// The one snapshot of the running agent: `vpsfw status` prints it, the stats event logs it, and
// metrics, `vpsfw top` and the dashboard read the same object. Built on demand from where each
// thing is counted (engine, queue, ban store, kernel counters), never on the packet path.
import type { EngineStats } from '../engine/engine.js';
import type { HookPosition } from '../kernel/apply.js';
import type { KernelCounters } from '../kernel/counters.js';
import type { LoadedPolicy } from '../policy/load.js';
import { formatCidr } from '../policy/units.js';
import type { LogSourceStats } from '../logsources/sources.js';
import type { KernelQueueStats } from '../queue/types.js';

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
  bans: { active: number };
  logsSuppressed: number;
  reloads: { accepted: number; rejected: number };
  /** What each log source has read and done (docs/logsources.md). */
  logSources: LogSourceStats[];
  memory: NodeJS.MemoryUsage;
  /** How late the event loop ran timers since the start, in milliseconds: the agent's own latency. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

export interface PolicySummary {
  source: string;
  hash: string;
  defaults: { inbound: string; outbound: string };
  /** The static rules as one line each: "ssh: accept tcp local 22". */
  rules: string[];
  trustedInterfaces: string[];
  denyNetworks: number;
}

export function summarizePolicy(p: LoadedPolicy): PolicySummary {
  const policy = p.policy;
  const ports = (label: string, r: readonly { from: number; to: number }[] | undefined) => (r ? ` ${label} ${r.map((x) => (x.from === x.to ? `${x.from}` : `${x.from}-${x.to}`)).join(',')}` : '');
  return {
    source: p.source,
    hash: p.hash,
    defaults: { inbound: policy.defaults.inbound, outbound: policy.defaults.outbound },
    rules: policy.rules.map(
      (r) =>
        `${r.name}: ${r.action} ${r.direction} ${r.protocol}${ports('local', r.localPorts)}${ports('remote', r.remotePorts)}${r.source ? ` from ${r.source.map(formatCidr).join(',')}` : ''}${r.interfaces ? ` on ${r.interfaces.join(',')}` : ''}`,
    ),
    trustedInterfaces: [...policy.trustedInterfaces],
    denyNetworks: policy.denyNetworks.length,
  };
}
