// The flood, size and scan detectors, each a small class over bounded per-source state. A
// detector returns null (nothing to say) or the verdict that stops the packet.
import type { Policy } from '../policy/schema.js';
import type { Packet } from '../packet/types.js';
import { TCP_ACK, TCP_SYN } from '../packet/types.js';
import { formatDuration } from '../policy/units.js';
import { BoundedMap } from './bounded-map.js';
import { destinationPort } from './match.js';
import { TokenBuckets, type Rate } from './token-bucket.js';
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
  forget(src: string): void;
  sweep(now: number): void;
  readonly tracked: number;
}

abstract class PerSourceBuckets implements SourceTracker {
  protected readonly perSource: TokenBuckets<string>;

  constructor(rate: Rate, maxSources: number) {
    this.perSource = new TokenBuckets(rate, maxSources);
  }

  forget(src: string): void {
    this.perSource.forget(src);
  }

  sweep(now: number): void {
    this.perSource.sweep(now);
  }

  get tracked(): number {
    return this.perSource.size;
  }
}

export class SynFloodDetector extends PerSourceBuckets {
  readonly #cfg: Detectors['synFlood'];
  readonly #total: TokenBuckets<0>;

  constructor(cfg: Detectors['synFlood'], maxSources: number) {
    super(cfg.perSource, maxSources);
    this.#cfg = cfg;
    this.#total = new TokenBuckets(cfg.total, 1);
  }

  check(p: Packet, now: number): Verdict | null {
    if (!this.#cfg.enabled || !isSyn(p)) return null;
    if (!this.perSource.take(p.src, now)) return stop('synFlood', `SYN rate over ${rateText(this.#cfg.perSource)} from ${p.src}`, this.#cfg.ban);
    // The total limit protects the server from many sources at once; it cannot say whom to ban.
    if (!this.#total.take(0, now)) return stop('synFloodTotal', `SYN rate over ${rateText(this.#cfg.total)} from all sources`, false);
    return null;
  }
}

export class IcmpDetector extends PerSourceBuckets {
  readonly #flood: Detectors['icmpFlood'];
  readonly #size: Detectors['oversizedIcmp'];

  constructor(d: Detectors, maxSources: number) {
    super(d.icmpFlood.perSource, maxSources);
    this.#flood = d.icmpFlood;
    this.#size = d.oversizedIcmp;
  }

  check(p: Packet, now: number): Verdict | null {
    if (!isEchoRequest(p)) return null;
    // Every echo request takes a token, oversized ones too: a flood of them is still a flood.
    if (this.#flood.enabled && !this.perSource.take(p.src, now)) return stop('icmpFlood', `echo rate over ${rateText(this.#flood.perSource)} from ${p.src}`, this.#flood.ban);
    if (this.#size.enabled && p.length > this.#size.maxBytes) return stop('oversizedIcmp', `echo request of ${p.length} bytes over ${this.#size.maxBytes} from ${p.src}`, this.#size.ban);
    return null;
  }
}

interface ScanState {
  since: number;
  ports: Set<number>;
}

/**
 * Many distinct closed ports from one source within the window. Only ports the static rules did
 * not accept are counted: a client opening many connections to one open service is busy, not
 * scanning, and the caller only hands this detector packets the rules refused. The window is fixed:
 * it starts at a source's first closed port and the count restarts once it has passed.
 */
export class PortScanDetector implements SourceTracker {
  readonly #cfg: Detectors['portScan'];
  readonly #sources: BoundedMap<string, ScanState>;

  constructor(cfg: Detectors['portScan'], maxSources: number) {
    this.#cfg = cfg;
    this.#sources = new BoundedMap(maxSources);
  }

  /** Counts a packet to a closed port. */
  check(p: Packet, now: number): Verdict | null {
    const port = destinationPort(p);
    if (!this.#cfg.enabled || port < 0) return null;
    let s = this.#sources.get(p.src);
    if (s === undefined || now - s.since > this.#cfg.window) {
      s = { since: now, ports: new Set() };
      this.#sources.set(p.src, s);
    }
    s.ports.add(port);
    if (s.ports.size <= this.#cfg.ports) return null;
    s.ports.clear();
    return stop('portScan', `${this.#cfg.ports + 1} closed ports within ${formatDuration(this.#cfg.window)} from ${p.src}`, this.#cfg.ban);
  }

  forget(src: string): void {
    this.#sources.delete(src);
  }

  sweep(now: number): void {
    for (const [k, s] of this.#sources) if (now - s.since > this.#cfg.window) this.#sources.delete(k);
  }

  get tracked(): number {
    return this.#sources.size;
  }
}
