// Bans: who is banned, until when, why; escalation for repeat offenders; the allowlist. The store
// decides; the kernel set enforces (writes are batched, so a flood from many sources costs one
// `ipset restore` per batch, not one process per ban); the state file survives restarts.
import type { Family } from '../kernel/names.js';

export interface BanEntry {
  address: string;
  family: Family;
  /** Epoch ms. */
  since: number;
  until: number;
  reason: string;
  by: string;
  /** How many times this source has been banned within the escalation memory (1 = first). */
  offense: number;
}

export interface BanKernel {
  add(entries: ReadonlyArray<{ address: string; family: Family; seconds: number }>): Promise<void>;
  del(address: string, family: Family): Promise<void>;
}

export interface BanStateFile {
  load(): Promise<unknown>;
  save(state: BanState): Promise<void>;
}

export interface BanState {
  version: 1;
  bans: BanEntry[];
  offenders: Array<{ address: string; count: number; last: number }>;
}

export interface BanSettings {
  /** Default ban length, ms. */
  duration: number;
  escalation: { factor: number; max: number; memory: number };
  maxEntries: number;
  isAllowlisted(address: string): boolean;
}

export type BanResult =
  | { kind: 'banned'; entry: BanEntry }
  | { kind: 'already'; entry: BanEntry }
  | { kind: 'allowlisted' };

/** ipset's largest timeout (seconds): longer bans are clamped to it. */
export const MAX_KERNEL_TIMEOUT_S = 2_147_483;

export function familyOf(address: string): Family {
  return address.includes(':') ? 6 : 4;
}

export class BanStore {
  readonly #bans = new Map<string, BanEntry>();
  readonly #offenders = new Map<string, { count: number; last: number }>();
  readonly #kernel: BanKernel;
  readonly #file: BanStateFile;
  readonly #now: () => number;
  readonly #onError: (err: unknown) => void;
  #settings: BanSettings;
  #pending: Array<{ address: string; family: Family; seconds: number }> = [];
  #flushing: Promise<void> | null = null;
  #saveTimer: NodeJS.Timeout | null = null;

  constructor(deps: { kernel: BanKernel; file: BanStateFile; now: () => number; onError: (err: unknown) => void }, settings: BanSettings) {
    this.#kernel = deps.kernel;
    this.#file = deps.file;
    this.#now = deps.now;
    this.#onError = deps.onError;
    this.#settings = settings;
  }

  updateSettings(settings: BanSettings): void {
    this.#settings = settings;
  }

  /** The escalated length of the next ban for this address, ms. */
  nextDuration(address: string, base: number | null, now = this.#now()): { ms: number; offense: number } {
    const { factor, max, memory } = this.#settings.escalation;
    const o = this.#offenders.get(address);
    const offense = o && now - o.last <= memory ? o.count + 1 : 1;
    const ms = Math.min((base ?? this.#settings.duration) * factor ** (offense - 1), Math.max(max, base ?? 0), MAX_KERNEL_TIMEOUT_S * 1000);
    return { ms, offense };
  }

  ban(address: string, opts: { durationMs: number | null; reason: string; by: string; escalate?: boolean }): BanResult {
    if (this.#settings.isAllowlisted(address)) return { kind: 'allowlisted' };
    const now = this.#now();
    const current = this.#bans.get(address);
    if (current && current.until > now && opts.escalate !== false) return { kind: 'already', entry: current };
    const { ms, offense } = opts.escalate === false
      ? { ms: Math.min(opts.durationMs ?? this.#settings.duration, MAX_KERNEL_TIMEOUT_S * 1000), offense: (this.#offenders.get(address)?.count ?? 0) + 1 }
      : this.nextDuration(address, opts.durationMs, now);
    if (!current && this.#bans.size >= this.#settings.maxEntries) this.#evictSoonest();
    const entry: BanEntry = { address, family: familyOf(address), since: now, until: now + ms, reason: opts.reason, by: opts.by, offense };
    this.#bans.set(address, entry);
    this.#offenders.set(address, { count: offense, last: now });
    this.#toKernel(entry, now);
    this.#scheduleSave();
    return { kind: 'banned', entry };
  }

  async unban(address: string): Promise<boolean> {
    const had = this.#bans.delete(address);
    await this.#kernel.del(address, familyOf(address));
    this.#scheduleSave();
    return had;
  }

  /** Live bans, soonest expiry first; expired ones are dropped (the kernel expired them already). */
  list(): BanEntry[] {
    this.sweep();
    return [...this.#bans.values()].sort((a, b) => a.until - b.until);
  }

  has(address: string): boolean {
    const e = this.#bans.get(address);
    return e !== undefined && e.until > this.#now();
  }

  get size(): number {
    return this.#bans.size;
  }

  sweep(now = this.#now()): void {
    let changed = false;
    for (const [a, e] of this.#bans) {
      if (e.until <= now) {
        this.#bans.delete(a);
        changed = true;
      }
    }
    for (const [a, o] of this.#offenders) {
      if (now - o.last > this.#settings.escalation.memory) this.#offenders.delete(a);
    }
    if (changed) this.#scheduleSave();
  }

  /** At start: bring back the bans still running from the state file, into the kernel too. */
  async restore(): Promise<number> {
    const state = parseState(await this.#file.load());
    const now = this.#now();
    for (const o of state.offenders) this.#offenders.set(o.address, { count: o.count, last: o.last });
    for (const e of state.bans) {
      if (e.until <= now || this.#settings.isAllowlisted(e.address)) continue;
      this.#bans.set(e.address, e);
      this.#toKernel(e, now);
    }
    await this.flushed();
    return this.#bans.size;
  }

  /**
   * Bans found in the kernel set but not in the store: made just before a crash, after the last
   * save (the set outlives a killed agent). Adopted with the time the kernel has left for them.
   */
  adopt(kernelBans: ReadonlyArray<{ address: string; family: Family; secondsLeft: number }>): number {
    const now = this.#now();
    let adopted = 0;
    for (const k of kernelBans) {
      if (this.#bans.has(k.address) || k.secondsLeft <= 0) continue;
      const offense = this.#offenders.get(k.address)?.count ?? 1;
      this.#bans.set(k.address, { address: k.address, family: k.family, since: now, until: now + k.secondsLeft * 1000, reason: 'found in the kernel ban set at start', by: 'kernel', offense });
      adopted++;
    }
    if (adopted > 0) this.#scheduleSave();
    return adopted;
  }

  /** Resolves when every ban so far is in the kernel. */
  async flushed(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async save(): Promise<void> {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    this.sweep();
    await this.#file.save({
      version: 1,
      bans: [...this.#bans.values()],
      offenders: [...this.#offenders].map(([address, o]) => ({ address, ...o })),
    });
  }

  #evictSoonest(): void {
    let soonest: BanEntry | undefined;
    for (const e of this.#bans.values()) if (!soonest || e.until < soonest.until) soonest = e;
    if (!soonest) return;
    this.#bans.delete(soonest.address);
    this.#kernel.del(soonest.address, soonest.family).catch(this.#onError);
  }

  #toKernel(e: BanEntry, now: number): void {
    this.#pending.push({ address: e.address, family: e.family, seconds: Math.max(1, Math.ceil((e.until - now) / 1000)) });
    if (!this.#flushing) this.#flushing = this.#flush();
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      await this.#kernel.add(batch).catch(this.#onError);
    }
    this.#flushing = null;
  }

  #scheduleSave(): void {
    // Coalesced: under a flood of bans the file is written at most once a second.
    this.#saveTimer ??= setTimeout(() => {
      this.#saveTimer = null;
      this.save().catch(this.#onError);
    }, 1000).unref();
  }
}

function parseState(raw: unknown): BanState {
  const empty: BanState = { version: 1, bans: [], offenders: [] };
  if (!raw || typeof raw !== 'object' || (raw as BanState).version !== 1) return empty;
  const s = raw as BanState;
  const isEntry = (e: BanEntry) =>
    e && typeof e.address === 'string' && (e.family === 4 || e.family === 6) && Number.isFinite(e.until) && Number.isFinite(e.since);
  return {
    version: 1,
    bans: Array.isArray(s.bans) ? s.bans.filter(isEntry) : [],
    offenders: Array.isArray(s.offenders) ? s.offenders.filter((o) => o && typeof o.address === 'string' && Number.isFinite(o.count) && Number.isFinite(o.last)) : [],
  };
}
