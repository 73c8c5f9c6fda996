// The status snapshot: one object, built on demand (never on the packet path) from the counters
// each part keeps where it counts. `vpsfw status --json` prints it; the stats event, the metrics,
// `vpsfw top` and the dashboard read the same object. docs/observability.md says what each field means.
import type { BanStats, BanStore } from '../bans/store.js';
import type { Engine, EngineStats } from '../engine/engine.js';
import type { LogLimiter } from '../log/limiter.js';
import type { LoadedPolicy } from '../policy/load.js';
import type { PacketQueue, QueueStats } from '../queue/types.js';
import type { DropSource, DropSources } from './drop-sources.js';
import type { EventLoopDelay, EventLoopMonitor } from './event-loop.js';

/** How many of the sources refused most the snapshot lists. */
export const TOP_DROP_SOURCES = 10;

export interface ReloadCounts {
  accepted: number;
  rejected: number;
}

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
  policy: { source: string; hash: string };
  queue: { num: number; failMode: 'open' | 'closed' } & QueueStats;
  bans: BanStats;
  /** Drop and reject lines left out of the log by logging.dropLogsPerSecond, since start. */
  logsSuppressed: number;
  reloads: ReloadCounts;
  eventLoop: EventLoopDelay;
  /** The sources whose packets the agent refused most (daemon/drop-sources.ts). */
  dropSources: DropSource[];
  http: HttpStatus | null;
  memory: NodeJS.MemoryUsage;
}

export interface StatusParts {
  version: string;
  startedAt: number;
  policy: () => LoadedPolicy;
  queue: PacketQueue;
  engine: () => Engine;
  bans: BanStore;
  limiter: LogLimiter;
  reloads: ReloadCounts;
  eventLoop: EventLoopMonitor;
  dropSources: DropSources;
  http: () => HttpStatus | null;
}

export function buildStatus(p: StatusParts, now = Date.now()): AgentStatus {
  const current = p.policy();
  return {
    version: p.version,
    pid: process.pid,
    uptimeSeconds: Math.round((now - p.startedAt) / 1000),
    policy: { source: current.source, hash: current.hash },
    queue: { num: current.policy.queue.num, failMode: current.policy.queue.failMode, ...p.queue.stats() },
    ...p.engine().stats(),
    bans: p.bans.stats(),
    logsSuppressed: p.limiter.suppressedTotal,
    reloads: { ...p.reloads },
    eventLoop: p.eventLoop.read(),
    dropSources: p.dropSources.top(TOP_DROP_SOURCES),
    http: p.http(),
    // What the policy's limits bound (docs/benchmarks.md, Memory): the state tables are array
    // buffers sized for their limits, of which only the pages used are resident.
    memory: process.memoryUsage(),
  };
}
