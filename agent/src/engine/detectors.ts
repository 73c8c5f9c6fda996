// The flood, size and scan detectors, each a small class over bounded per-source state. A
// detector returns null (nothing to say) or the verdict that stops the packet. Verdicts are made
// once per policy and name no address (the log line and the ban carry the source), so a flood
// costs no strings.
import type { Policy } from '../policy/schema.js';
import type { Packet } from '../packet/types.js';
import { TCP_ACK, TCP_SYN } from '../packet/types.js';
import { formatDuration } from '../policy/units.js';
import { WORDS } from '../tables/address-key.js';
import { ByFamily } from '../tables/by-family.js';
import { SlotTable } from '../tables/slot-table.js';
import { destinationPort, sourceKey } from './match.js';
import { EMPTY, FIRST, TokenBucket, TokenBuckets, type Rate } from './token-bucket.js';
import type { DecidedBy, Verdict } from './verdict.js';

type Detectors = Policy['detectors'];

const rateText = (r: Rate) => `${r.rate}/${formatDuration(r.per)}`;

function stop(name: Extract<DecidedBy, { kind: 'detector' }>['name'], reason: string, ban: number | false): Verdict {
  return { action: 'drop', by: { kind: 'detector', name }, reason, ban: ban === false ? undefined : { durationMs: ban } };
}

export const isSyn = (p: Packet) => p.l4?.kind === 'tcp' && (p.l4.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
export const isEchoRequest = (p: Packet) => (p.l4?.kind === 'icmp' && p.l4.type === 8) || (p.l4?.kind === 'icmpv6' && p.l4.type === 128);

/** Per-source state every detector keeps: forgotten on unban, swept when it says nothing. */
export interface SourceTracker {
  /** `key`: the source's table key (tables/address-key.ts). */
  forget(key: Uint32Array): void;
  sweep(now: number): void;
  readonly tracked: number;
}

/**
 * How long a source that sent a SYN stays known. Known sources are spared the total SYN limit: the
 * sources of a spoofed flood are new ones, a real client's next connection (or the retry of a SYN
 * the total limit dropped) comes from an address already seen.
 */
export const KNOWN_SOURCE_MS = 10 * 60_000;

export class SynFloodDetector implements SourceTracker {
  readonly #enabled: boolean;
  readonly #perSource: TokenBuckets;
  readonly #total: TokenBucket;
  readonly #flood: Verdict;
  readonly #overTotal: Verdict;

  /** `previous`: the last policy's detector, whose tables this one takes over when it can. */
  constructor(cfg: Detectors['synFlood'], maxSources: number, previous?: SynFloodDetector) {
    this.#enabled = cfg.enabled;
    this.#perSource = new TokenBuckets(cfg.perSource, maxSources, previous && previous.#perSource);
    this.#total = new TokenBucket(cfg.total);
    this.#flood = stop('synFlood', `SYN rate over ${rateText(cfg.perSource)}`, cfg.ban);
    // The total limit protects the server from many sources at once; it cannot say whom to ban.
    this.#overTotal = stop('synFloodTotal', `SYN rate over ${rateText(cfg.total)} from all sources (this source is new)`, false);
  }

  check(p: Packet, now: number): Verdict | null {
    if (!this.#enabled || !isSyn(p)) return null;
    const took = this.#perSource.take(sourceKey(p), now);
    if (took === EMPTY) return this.#flood;
    if (took === FIRST && !this.#total.take(now)) return this.#overTotal;
    return null;
  }

  forget(key: Uint32Array): void {
    this.#perSource.forget(key);
  }

  sweep(now: number): void {
    this.#perSource.sweep(now, KNOWN_SOURCE_MS);
  }

  get tracked(): number {
    return this.#perSource.size;
  }
}

export class IcmpDetector implements SourceTracker {
  readonly #flood: Detectors['icmpFlood'];
  readonly #size: Detectors['oversizedIcmp'];
  readonly #perSource: TokenBuckets;
  readonly #overRate: Verdict;
  readonly #oversized: Verdict;

  constructor(d: Detectors, maxSources: number, previous?: IcmpDetector) {
    this.#flood = d.icmpFlood;
    this.#size = d.oversizedIcmp;
    this.#perSource = new TokenBuckets(d.icmpFlood.perSource, maxSources, previous && previous.#perSource);
    this.#overRate = stop('icmpFlood', `echo rate over ${rateText(d.icmpFlood.perSource)}`, d.icmpFlood.ban);
    this.#oversized = stop('oversizedIcmp', `echo request over ${d.oversizedIcmp.maxBytes} bytes`, d.oversizedIcmp.ban);
  }

  check(p: Packet, now: number): Verdict | null {
    if (!isEchoRequest(p)) return null;
    // Every echo request takes a token, oversized ones too: a flood of them is still a flood.
    if (this.#flood.enabled && this.#perSource.take(sourceKey(p), now) === EMPTY) return this.#overRate;
    if (this.#size.enabled && p.length > this.#size.maxBytes) return this.#oversized;
    return null;
  }

  forget(key: Uint32Array): void {
    this.#perSource.forget(key);
  }

  sweep(now: number): void {
    this.#perSource.sweep(now);
  }

  get tracked(): number {
    return this.#perSource.size;
  }
}

/** Per source: when its window started and the distinct closed ports it touched in it (at most `ports`). */
class ScanTable extends SlotTable {
  readonly stride: number;
  readonly since: Float64Array;
  readonly count: Uint32Array;
  readonly ports: Uint16Array;

  constructor(width: number, stride: number, maxSources: number) {
    super(width, maxSources);
    this.stride = stride;
    this.since = new Float64Array(maxSources);
    this.count = new Uint32Array(maxSources);
    this.ports = new Uint16Array(maxSources * stride);
  }
}

/**
 * Many distinct closed ports from one source within the window. Only ports the static rules did
 * not accept are counted: a client opening many connections to one open service is busy, not
 * scanning, and the caller only hands this detector packets the rules refused. The window is fixed:
 * it starts at a source's first closed port and the count restarts once it has passed.
 */
export class PortScanDetector implements SourceTracker {
  readonly #cfg: Detectors['portScan'];
  readonly #sources: ByFamily<ScanTable>;
  readonly #verdict: Verdict;

  constructor(cfg: Detectors['portScan'], maxSources: number, previous?: PortScanDetector) {
    this.#cfg = cfg;
    const old = previous && previous.#sources;
    this.#sources = old && old.v4.max === maxSources && old.v4.stride === cfg.ports ? old : new ByFamily((family) => new ScanTable(WORDS[family], cfg.ports, maxSources));
    this.#verdict = stop('portScan', `${cfg.ports + 1} closed ports within ${formatDuration(cfg.window)}`, cfg.ban);
  }

  /** Counts a packet to a closed port. */
  check(p: Packet, now: number): Verdict | null {
    const port = destinationPort(p);
    if (!this.#cfg.enabled || port < 0) return null;
    const key = sourceKey(p);
    const t = this.#sources.of(key);
    let s = t.find(key);
    if (s >= 0) t.touch(s);
    if (s < 0 || now - t.since[s]! > this.#cfg.window) {
      if (s < 0) s = t.insert(key);
      t.since[s] = now;
      t.count[s] = 0;
    }
    const n = t.count[s]!;
    const base = s * t.stride;
    for (let i = 0; i < n; i++) if (t.ports[base + i] === port) return null;
    if (n < this.#cfg.ports) {
      t.ports[base + n] = port;
      t.count[s] = n + 1;
      return null;
    }
    t.count[s] = 0;
    return this.#verdict;
  }

  forget(key: Uint32Array): void {
    const t = this.#sources.of(key);
    const s = t.find(key);
    if (s >= 0) t.delete(s);
  }

  sweep(now: number): void {
    for (const t of this.#sources.both) for (const s of t.slots()) if (now - t.since[s]! > this.#cfg.window) t.delete(s);
  }

  get tracked(): number {
    return this.#sources.size;
  }
}
