// Bans: who is banned, until when, why, at whose request; escalation for repeat offenders; the
// allowlist. Every source of bans (detectors, rate limits, payload rules, `vpsfw ban`, CrowdSec,
// log sources) hands the store the same BanRequest. The store decides; the kernel sets enforce
// (writes are batched, so a flood from many sources costs one `ipset restore` per batch, not one
// process per ban); the state file survives restarts.
//
// Bans and offence histories live in state tables (tables/slot-table.ts), a record per address
// and one per network (range bans, in tables of their own: keys one word wider, for the prefix):
// a hundred thousand bans cost a few megabytes. BanEntry objects are made only for those who ask
// (list, the state file).
import { VpsfwError, shortText } from '../errors.js';
import type { Family } from '../kernel/names.js';
import type { Cidr } from '../policy/units.js';
import { addressText, WORDS } from '../tables/address-key.js';
import { elapsed32, stamp32 } from '../tables/ms32.js';
import { SlotTable } from '../tables/slot-table.js';
import { allowlistMatcher, type AllowlistMatch } from './allowlist.js';
import { PendingWrites, ROW } from './pending.js';
import { fullPrefix, isAddress, neverBanned, parseTarget, targetText, type Target } from './target.js';

export type BanOrigin = 'agent' | 'control' | 'crowdsec' | 'log' | 'kernel';
export const BAN_ORIGINS: readonly BanOrigin[] = ['agent', 'control', 'crowdsec', 'log', 'kernel'];

/** What every source of bans asks the store. */
export interface BanRequest {
  /** An address, or a CIDR network (a range ban). */
  target: string;
  /** null: the policy's bans.duration, escalated for repeat offenders. */
  durationMs: number | null;
  reason: string;
  /** The decider: "detector:synFlood", "ratelimit:x", "payload:x", "control", "crowdsec", "log:sshd". */
  by: string;
  origin: BanOrigin;
  /** A CrowdSec scenario, e.g. "crowdsecurity/ssh-bf". */
  scenario?: string | undefined;
  /**
   * Default true: a repeat offender's ban grows, and a running ban is not made again. False (a
   * CrowdSec decision, `vpsfw ban --for`): the duration as given, which lengthens a running ban
   * and never shortens it.
   */
  escalate?: boolean | undefined;
}

export interface BanEntry {
  /** The banned address, or network in CIDR form (a range ban), as packets and ipset print it. */
  address: string;
  family: Family;
  /** Epoch ms. */
  since: number;
  until: number;
  reason: string;
  by: string;
  origin: BanOrigin;
  scenario?: string;
  /** How many times this source has been banned within the escalation memory (1 = first). */
  offense: number;
}

/** A ban as the kernel gets it: `target` an address (ban set) or a CIDR network (range set). */
export interface KernelEntry {
  target: string;
  family: Family;
  /** The timeout; 0 takes the entry out of its set (a lift, written in the same batches, in order). */
  seconds: number;
}

/** A ban as the kernel holds it, with the seconds its timeout has left. */
export interface KernelBan {
  target: string;
  family: Family;
  secondsLeft: number;
}

export interface BanKernel {
  /**
   * Writes the entries (adds, and removals: timeout 0), made one at a time as the kernel reads them. `entries` is called again to
   * go on past a line the kernel refused, and must give the same entries each time. Resolves (it
   * never rejects) with an error for each entry the kernel refused and for whatever stopped the
   * writing; every other entry is written.
   */
  add(entries: () => Iterable<KernelEntry>): Promise<Error[]>;
  del(target: string, family: Family): Promise<void>;
  /** Every entry of the ban sets (addresses and networks, both families). */
  list(): Promise<KernelBan[]>;
}

/** What the state file holds, one record each: running bans and remembered offenders. */
export type BanRecord = ({ type: 'ban' } & BanEntry) | { type: 'offender'; address: string; count: number; last: number };

export interface BanStateFile {
  /** Where it is, for messages. */
  readonly path: string;
  /**
   * The records saved last, a batch at a time (none when there is no file). A line that holds no
   * record is handed to `bad` (where, why) and the others are still read.
   */
  load(bad: (where: string, why: string) => void): AsyncIterable<readonly BanRecord[]>;
  save(records: Iterable<BanRecord>): Promise<void>;
}

export interface BanSettings {
  /** Default ban length, ms. */
  duration: number;
  escalation: { factor: number; max: number; memory: number };
  maxEntries: number;
  /** Never banned (bans.allowlist): neither an address inside it nor a network holding part of it. */
  allowlist: readonly Cidr[];
}

/** What the store has done since start, for the status snapshot (and the metrics made from it). */
export interface BanStats {
  /** Bans running now. */
  active: number;
  activeByFamily: { ipv4: number; ipv6: number };
  /** Running bans by origin (`vpsfw status`: how many came from CrowdSec). */
  activeByOrigin: Record<BanOrigin, number>;
  /** Bans made, by decider and origin, most first; restored and adopted ones are not made here. */
  made: Array<{ by: string; origin: BanOrigin; count: number }>;
  /** Ended by `unban`. */
  lifted: number;
  /** Ran out. */
  expired: number;
  /** Ended early to make room at bans.maxEntries. */
  evicted: number;
  /** Ended by a reload whose bans.allowlist covers them. */
  allowlisted: number;
  /** The last bans made, newest first (at most RECENT_BANS). */
  recent: BanEntry[];
}

/** How many of the last bans made the status snapshot carries. */
export const RECENT_BANS = 10;

export type BanResult =
  | { kind: 'banned'; entry: BanEntry }
  | { kind: 'already'; entry: BanEntry }
  | { kind: 'allowlisted' }
  /** A target that must never be banned (unspecified, multicast, broadcast; a network holding part of the allowlist); `reason` names it. */
  | { kind: 'refused'; reason: string };

/** ipset's largest timeout (seconds): longer bans are clamped to it. */
export const MAX_KERNEL_TIMEOUT_S = 2_147_483;

/**
 * The most records (running bans and remembered offenders) each family's address table holds:
 * the schema's largest bans.maxEntries. Beyond it the least recently banned source is forgotten.
 */
const TABLE_MAX = 1_000_000;
/** The same for networks: range bans are few (CrowdSec range decisions, manual ones). */
const NET_TABLE_MAX = 65_536;

/** Bans per `ipset restore` while banning: a flood of bans costs a few processes, none huge. */
export const KERNEL_BATCH = 1024;

/** A running ban the store is asked for again is written to the kernel again at most this often, ms. */
export const REWRITE_MS = 1000;

/** A ban is lengthened (a request without escalation) only by this much or more, ms: the kernel counts whole seconds. */
export const LENGTHEN_MS = 1000;

/** Records of the state file not restored (bad lines, targets never banned) reported one by one; the rest are counted. */
const RECORDS_REPORTED = 10;

/**
 * One record per address (or per network): its last ban (running while `until` is after now) and
 * how many bans it has had (`offense`, counted while the last one began within the escalation
 * memory). A source stays an offender after its ban ends, until the memory passes: then its
 * record goes.
 */
class BanTable extends SlotTable {
  readonly since: Float64Array;
  /** 0 once the ban has ended (expired, unbanned or evicted). */
  readonly until: Float64Array;
  readonly offense: Uint32Array;
  /** Why, by whom and the scenario, as indexes into `texts`: they repeat (a detector's, a rule's). */
  readonly reason: Uint16Array;
  readonly by: Uint16Array;
  readonly scenario: Uint16Array;
  /** Index into BAN_ORIGINS. */
  readonly origin: Uint8Array;
  /** When the entry was last written to the kernel (tables/ms32.ts). */
  readonly written: Uint32Array;
  readonly family: Family;
  /** Networks: the key's last word is the prefix length. */
  readonly network: boolean;
  /**
   * Records whose `until` is not 0 (running bans, and those ended since the last sweep), and of
   * them how many of each origin (BAN_ORIGINS' order): counted as records change, here alone.
   */
  #active = 0;
  readonly activeByOrigin = new Uint32Array(BAN_ORIGINS.length);
  readonly #texts: Texts;
  readonly #key: Uint32Array;

  constructor(family: Family, network: boolean, texts: Texts) {
    const max = network ? NET_TABLE_MAX : TABLE_MAX;
    super(WORDS[family] + (network ? 1 : 0), max);
    this.since = new Float64Array(max);
    this.until = new Float64Array(max);
    this.offense = new Uint32Array(max);
    this.reason = new Uint16Array(max);
    this.by = new Uint16Array(max);
    this.scenario = new Uint16Array(max);
    this.origin = new Uint8Array(max);
    this.written = new Uint32Array(max);
    this.family = family;
    this.network = network;
    this.#texts = texts;
    this.#key = new Uint32Array(this.width);
  }

  /** The key of a target of this table, in an array of the table's, valid until the next call. */
  keyFor(t: Target): Uint32Array {
    this.#key.set(t.words);
    if (this.network) this.#key[WORDS[this.family]] = t.prefix;
    return this.#key;
  }

  /** The target of a key of this table, as text. */
  text(key: Uint32Array): string {
    return this.network ? `${addressText(key.subarray(0, WORDS[this.family]))}/${key[WORDS[this.family]]}` : addressText(key);
  }

  target(s: number): Target {
    const key = this.keyOf(s);
    return { family: this.family, words: key.slice(0, WORDS[this.family]), prefix: this.network ? key[WORDS[this.family]]! : fullPrefix(this.family) };
  }

  entry(s: number): BanEntry {
    const scenario = this.#texts.at(this.scenario[s]!);
    return {
      address: this.text(this.keyOf(s)),
      family: this.family,
      since: this.since[s]!,
      until: this.until[s]!,
      reason: this.#texts.at(this.reason[s]!),
      by: this.#texts.at(this.by[s]!),
      origin: BAN_ORIGINS[this.origin[s]!]!,
      ...(scenario === '' ? {} : { scenario }),
      offense: this.offense[s]!,
    };
  }

  /** The record for `key`, made if missing and marked as just used. */
  slot(key: Uint32Array): number {
    const s = this.find(key);
    if (s < 0) return this.insert(key);
    this.touch(s);
    return s;
  }

  get active(): number {
    return this.#active;
  }

  set(s: number, e: { since: number; until: number; offense: number; reason: string; by: string; origin: BanOrigin; scenario?: string | undefined }): void {
    this.#uncount(s);
    this.since[s] = e.since;
    this.until[s] = e.until;
    this.offense[s] = e.offense;
    this.reason[s] = this.#texts.index(e.reason);
    this.by[s] = this.#texts.index(e.by);
    this.origin[s] = BAN_ORIGINS.indexOf(e.origin);
    this.scenario[s] = this.#texts.index(e.scenario ?? '');
    if (e.until !== 0) {
      this.#active++;
      this.activeByOrigin[this.origin[s]!]!++;
    }
  }

  /** The ban ends; the record stays as an offender's. */
  end(s: number): void {
    this.#uncount(s);
    this.until[s] = 0;
  }

  /** Also the least recently used record that insert() evicts at the cap, running or not. */
  override delete(s: number): void {
    this.end(s);
    super.delete(s);
  }

  #uncount(s: number): void {
    if (this.until[s] === 0) return;
    this.#active--;
    this.activeByOrigin[this.origin[s]!]!--;
  }
}

/** A ban #plan found to make: where, and how long. */
interface NewBan {
  kind: 'new';
  t: Target;
  b: BanTable;
  key: Uint32Array;
  found: number;
  ms: number;
  offense: number;
  now: number;
}

/**
 * The running bans of a table, their keys and ends copied (the table changes while the kernel is
 * written, and the kernel may ask for the entries again): typed arrays, outside the JavaScript heap,
 * given back once written.
 */
function runningOf(b: BanTable, now: number): { table: BanTable; keys: Uint32Array; until: Float64Array; length: number } {
  const slots = new Int32Array(b.size);
  let n = 0;
  for (const slot of b.slots()) if (b.until[slot]! > now) slots[n++] = slot;
  const keys = new Uint32Array(n * b.width);
  const until = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    keys.set(b.keyOf(slots[i]!), i * b.width);
    until[i] = b.until[slots[i]!]!;
  }
  return { table: b, keys, until, length: n };
}

/**
 * The distinct reasons, deciders and scenarios of bans, each stored once and named by a 16-bit
 * index. Only manual bans and CrowdSec bring new text; past the last index, text is no longer kept
 * (it says so).
 */
class Texts {
  readonly #list = ['(not kept: more distinct reasons than the ban table holds)'];
  readonly #index = new Map<string, number>();

  index(text: string): number {
    let i = this.#index.get(text);
    if (i === undefined) {
      if (this.#list.length > 0xffff) return 0;
      this.#index.set(text, (i = this.#list.push(text) - 1));
    }
    return i;
  }

  at(i: number): string {
    return this.#list[i]!;
  }
}

export class BanStore {
  readonly #texts = new Texts();
  readonly #tables: Record<Family, { address: BanTable; network: BanTable }>;
  readonly #all: readonly BanTable[];
  /** Bans made, by decider, then origin (counts as in BAN_ORIGINS): no text made per ban. */
  readonly #made = new Map<string, number[]>();
  readonly #ended = { lifted: 0, expired: 0, evicted: 0, allowlisted: 0 };
  readonly #recent: BanEntry[] = [];
  /**
   * The last bans a bulk load made, as pairs of table (index into #all) and slot, at `#bulkMade %
   * RECENT_BANS`: their entries are made for #recent once it ends, not one for each ban.
   */
  readonly #bulkRecent = new Int32Array(RECENT_BANS * 2);
  #bulkMade = 0;
  readonly #kernel: BanKernel;
  readonly #file: BanStateFile;
  readonly #now: () => number;
  readonly #onError: (err: unknown) => void;
  #settings!: BanSettings;
  #allowlisted!: (t: Target) => AllowlistMatch | null;
  readonly #pending = new PendingWrites();
  /** The batch being written: one #flush at a time, and the kernel reads it only while its write runs. */
  readonly #batch = new Uint32Array(KERNEL_BATCH * ROW);
  #flushing: Promise<void> | null = null;
  #saveTimer: NodeJS.Timeout | null = null;
  /** Bulk loads running (bulk()), and whether a coalesced write waits for them to end. */
  #bulk = 0;
  #heldWrite = false;
  /** The write of the state file in progress, and the one that follows it (it holds every change made meanwhile). */
  #writing: Promise<void> | null = null;
  #nextWrite: Promise<void> | null = null;

  constructor(deps: { kernel: BanKernel; file: BanStateFile; now: () => number; onError: (err: unknown) => void }, settings: BanSettings) {
    this.#kernel = deps.kernel;
    this.#file = deps.file;
    this.#now = deps.now;
    this.#onError = deps.onError;
    const tables = (family: Family) => ({ address: new BanTable(family, false, this.#texts), network: new BanTable(family, true, this.#texts) });
    this.#tables = { 4: tables(4), 6: tables(6) };
    this.#all = [this.#tables[4].address, this.#tables[6].address, this.#tables[4].network, this.#tables[6].network];
    this.#use(settings);
  }

  /** New settings (a reload); running bans the new allowlist covers end now. */
  updateSettings(settings: BanSettings): void {
    const sameAllowlist = sameList(this.#settings.allowlist, settings.allowlist);
    this.#use(settings);
    // Most reloads keep the allowlist: no ban to look at again (a walk allocates for each one).
    if (sameAllowlist) return;
    const now = this.#now();
    let ended = false;
    for (const b of this.#all) {
      for (const s of b.slots()) {
        if (b.until[s]! <= now || this.#allowlisted(b.target(s)) === null) continue;
        const { address, family } = b.entry(s);
        b.end(s);
        this.#ended.allowlisted++;
        this.#kernel.del(address, family).catch(this.#onError);
        ended = true;
      }
    }
    if (ended) this.#changed(false);
  }

  #use(settings: BanSettings): void {
    this.#settings = settings;
    this.#allowlisted = allowlistMatcher(settings.allowlist);
  }

  #table(t: Target): BanTable {
    return this.#tables[t.family][isAddress(t) ? 'address' : 'network'];
  }

  /** Why the target is not banned, whoever asks: never a real source, or the allowlist. */
  #refusal(t: Target): Exclude<BanResult, { kind: 'banned' | 'already' }> | null {
    const never = neverBanned(t);
    if (never !== null) return { kind: 'refused', reason: never };
    const allowed = this.#allowlisted(t);
    if (allowed === null) return null;
    return allowed.kind === 'within' ? { kind: 'allowlisted' } : { kind: 'refused', reason: `${targetText(t)} holds the allowlisted network ${allowed.network} (bans.allowlist): not banned` };
  }

  /** The escalated length of the next ban for the record at slot `s` (or -1: none), ms. */
  #nextDuration(b: BanTable, s: number, base: number | null, now: number): { ms: number; offense: number } {
    const { factor, max, memory } = this.#settings.escalation;
    const offense = s >= 0 && now - b.since[s]! <= memory ? b.offense[s]! + 1 : 1;
    const ms = Math.min((base ?? this.#settings.duration) * factor ** (offense - 1), Math.max(max, base ?? 0), MAX_KERNEL_TIMEOUT_S * 1000);
    return { ms, offense };
  }

  ban(req: BanRequest): BanResult {
    const plan = this.#plan(req);
    if (plan.kind === 'already') return { kind: 'already', entry: plan.b.entry(plan.s) };
    if (plan.kind !== 'new') return plan;
    const entry = plan.b.entry(this.#make(plan, req));
    this.#remember(entry);
    return { kind: 'banned', entry };
  }

  /**
   * What ban() does, answering with the kind of result alone: a bulk load (a CrowdSec start-up pull
   * of 100,000 decisions) makes no entry per ban. Those entries, made and dropped by the hundred
   * thousand, were at times allocated straight into the old generation and took the agent's peak
   * up by 8 MiB.
   */
  bulkBan(req: BanRequest): BanResult['kind'] {
    const plan = this.#plan(req);
    if (plan.kind !== 'new') return plan.kind;
    const at = (this.#bulkMade++ % RECENT_BANS) * 2;
    this.#bulkRecent[at] = this.#all.indexOf(plan.b);
    this.#bulkRecent[at + 1] = this.#make(plan, req);
    return 'banned';
  }

  /** Records the planned ban, counts it and queues it for the kernel; returns its slot. */
  #make(plan: NewBan, req: BanRequest): number {
    const { b, key, found, ms, offense, now } = plan;
    const counted = found >= 0 && b.until[found] !== 0;
    if (!counted && this.#active() >= this.#settings.maxEntries) this.#evictSoonest(now);
    const s = b.slot(key);
    b.set(s, { since: now, until: now + ms, offense, reason: req.reason, by: req.by, origin: req.origin, scenario: req.scenario });
    this.#toKernel(b, s, now);
    // A manual ban is on disk before `vpsfw ban` returns (saved()); the others are coalesced.
    this.#changed(req.origin === 'control');
    let made = this.#made.get(req.by);
    if (made === undefined) this.#made.set(req.by, (made = BAN_ORIGINS.map(() => 0)));
    made[BAN_ORIGINS.indexOf(req.origin)]!++;
    return s;
  }

  /** What `ban` would make of the request (the same refusals, the same escalation), changing nothing: audit mode's would-ban. */
  preview(req: BanRequest): BanResult {
    const plan = this.#plan(req);
    if (plan.kind === 'already') return { kind: 'already', entry: plan.b.entry(plan.s) };
    if (plan.kind !== 'new') return plan;
    const { t, ms, offense, now } = plan;
    const entry: BanEntry = { address: targetText(t), family: t.family, since: now, until: now + ms, reason: req.reason, by: req.by, origin: req.origin, offense };
    if (req.scenario !== undefined) entry.scenario = req.scenario;
    return { kind: 'banned', entry };
  }

  /** A request's answer when it bans nothing new (refused, allowlisted, already banned: where), or how long the new ban lasts. */
  #plan(req: BanRequest): Exclude<BanResult, { kind: 'banned' | 'already' }> | { kind: 'already'; b: BanTable; s: number } | NewBan {
    const t = parseTarget(req.target);
    if (t === null) return { kind: 'refused', reason: `${JSON.stringify(shortText(req.target))} is not an IPv4 or IPv6 address or network: not banned` };
    const refusal = this.#refusal(t);
    if (refusal !== null) return refusal;
    const now = this.#now();
    const b = this.#table(t);
    const key = b.keyFor(t);
    const found = b.find(key);
    const running = found >= 0 && b.until[found]! > now;
    if (running && req.escalate !== false) {
      // The packet path meets a banned source again only when the kernel lost its entry (or the
      // packet was queued before the ban): write it again, at most once a second.
      if (elapsed32(now, b.written[found]!) >= REWRITE_MS) this.#toKernel(b, found, now);
      return { kind: 'already', b, s: found };
    }
    const { ms, offense } =
      req.escalate === false
        ? { ms: Math.min(req.durationMs ?? this.#settings.duration, MAX_KERNEL_TIMEOUT_S * 1000), offense: (found >= 0 ? b.offense[found]! : 0) + 1 }
        : this.#nextDuration(b, found, req.durationMs, now);
    // Without escalation a running ban is lengthened, never shortened; a new end less than the
    // kernel's second later leaves it as it is (the same CrowdSec decision pulled again, or the
    // echo of a ban this agent reported).
    if (running && now + ms < b.until[found]! + LENGTHEN_MS) return { kind: 'already', b, s: found };
    return { kind: 'new', t, b, key, found, ms, offense, now };
  }

  /**
   * Lifts a ban (an address or a network); true if it was running. With `only`, only a running ban
   * of that origin is lifted: a decision deleted in CrowdSec never lifts a ban the agent made.
   * The removal goes to the kernel in the batches bans go in, after them (a write on its way
   * cannot put the entry back), and resolves once written (a kernel failure goes to onError).
   * A manual unban (no `only`) is saved soon; a source's own lifts are coalesced.
   */
  async unban(target: string, only?: { origin: BanOrigin }): Promise<boolean> {
    const t = parseTarget(target);
    if (t === null) return false;
    const b = this.#table(t);
    const s = b.find(b.keyFor(t));
    const had = s >= 0 && b.until[s]! > this.#now();
    if (only !== undefined && !(had && b.origin[s] === BAN_ORIGINS.indexOf(only.origin))) return false;
    // The offence history stays: a source banned again escalates.
    if (s >= 0) b.end(s);
    if (had) this.#ended.lifted++;
    this.#queue(b, 0, b.keyFor(t));
    this.#changed(only === undefined);
    await this.flushed();
    return had;
  }

  /** Running bans, soonest expiry first. */
  list(): BanEntry[] {
    this.sweep();
    const out: BanEntry[] = [];
    for (const b of this.#all) for (const s of b.slots()) if (b.until[s] !== 0) out.push(b.entry(s));
    return out.sort((x, y) => x.until - y.until);
  }

  /** How many bans are running. */
  count(): number {
    this.sweep();
    return this.#active();
  }

  stats(): BanStats {
    this.sweep();
    const t = this.#tables;
    const [ipv4, ipv6] = [t[4].address.active + t[4].network.active, t[6].address.active + t[6].network.active];
    const made = [...this.#made].flatMap(([by, counts]) => BAN_ORIGINS.flatMap((origin, i) => (counts[i]! > 0 ? [{ by, origin, count: counts[i]! }] : []))).sort((x, y) => y.count - x.count);
    const activeByOrigin = Object.fromEntries(BAN_ORIGINS.map((o, i) => [o, this.#all.reduce((n, b) => n + b.activeByOrigin[i]!, 0)])) as Record<BanOrigin, number>;
    return { active: ipv4 + ipv6, activeByFamily: { ipv4, ipv6 }, activeByOrigin, made, ...this.#ended, recent: [...this.#recent] };
  }

  #active(): number {
    return this.#all.reduce((n, b) => n + b.active, 0);
  }

  /** A ban made, first among the last ones. */
  #remember(e: BanEntry): void {
    if (this.#recent.unshift(e) > RECENT_BANS) this.#recent.pop();
  }

  /** A bulk load ended: its last bans still running join the last ones made, oldest first. */
  #rememberBulk(): void {
    const now = this.#now();
    for (let i = Math.max(0, this.#bulkMade - RECENT_BANS); i < this.#bulkMade; i++) {
      const at = (i % RECENT_BANS) * 2;
      const b = this.#all[this.#bulkRecent[at]!]!;
      const s = this.#bulkRecent[at + 1]!;
      if (b.live(s) && b.until[s]! > now) this.#remember(b.entry(s));
    }
    this.#bulkMade = 0;
  }

  /** Ends bans that have run out (the kernel expired them already) and forgets offenders past the memory. */
  sweep(now = this.#now()): void {
    if (this.#sweep(now)) this.#changed(false);
  }

  #sweep(now: number): boolean {
    let changed = false;
    for (const b of this.#all) {
      for (const s of b.slots()) {
        if (b.until[s] !== 0 && b.until[s]! <= now) {
          b.end(s);
          this.#ended.expired++;
          changed = true;
        }
        if (b.until[s] === 0 && now - b.since[s]! > this.#settings.escalation.memory) b.delete(s);
      }
    }
    return changed;
  }

  /**
   * At start: bring back the bans still running and the offenders from the state file, then
   * reconcile with the kernel both ways: a ban the kernel holds and the store does not (made
   * after the last save, before a crash) is adopted, and every running ban is written to the
   * kernel (after a reboot its sets are empty), each made as the kernel reads it. A state file
   * that fails partway leaves every good record restored: each bad line is reported through
   * onError (where, why; ten of them, then a count), an unreadable file too, and the kernel is
   * reconciled all the same.
   * Returns how many bans are running.
   */
  async restore(): Promise<number> {
    const now = this.#now();
    const path = this.#file.path;
    let dropped = 0;
    const report = (message: string) => {
      if (++dropped <= RECORDS_REPORTED) this.#onError(new VpsfwError('VPSFW_ERR_BAN_STATE', message));
    };
    try {
      const records = this.#file.load((where, why) => report(`${path} ${where}: ${why}; not restored, the other records are`));
      for await (const batch of records) for (const r of batch) this.#restoreRecord(r, now, report);
    } catch (err) {
      this.#onError(new VpsfwError('VPSFW_ERR_BAN_STATE', `${path}: unreadable (${(err as Error).message}); the bans read before it and those the kernel holds are kept`, { cause: err }));
    }
    if (dropped > RECORDS_REPORTED) this.#onError(new VpsfwError('VPSFW_ERR_BAN_STATE', `${path}: ${dropped - RECORDS_REPORTED} more records not restored, not listed`));
    await this.#reconcile(now);
    return this.#active();
  }

  #restoreRecord(r: BanRecord, now: number, report: (message: string) => void): void {
    const t = parseTarget(r.address);
    if (t === null) return;
    const refusal = this.#refusal(t);
    if (refusal !== null) {
      // An allowlisted one quietly: the policy changed since.
      if (refusal.kind === 'refused' && r.type === 'ban' && r.until > now) report(`${this.#file.path}: the ban of ${r.address} is not restored: ${refusal.reason}`);
      return;
    }
    const b = this.#table(t);
    const key = b.keyFor(t);
    if (r.type === 'ban' && r.until > now) {
      b.set(b.slot(key), r);
      return;
    }
    // A ban that has ended since the save, or an offender record: history only. A running ban
    // of the same target (read before or after) says more.
    if (b.find(key) < 0) {
      const [since, offense] = r.type === 'ban' ? [r.since, r.offense] : [r.last, r.count];
      b.set(b.slot(key), { since, until: 0, offense, reason: '', by: '', origin: 'agent' });
    }
  }

  async #reconcile(now: number): Promise<void> {
    let held: KernelBan[] = [];
    try {
      held = await this.#kernel.list();
    } catch (err) {
      this.#onError(err);
    }
    let adopted = 0;
    for (const k of held) {
      const t = parseTarget(k.target);
      if (t === null || k.secondsLeft <= 0) continue;
      if (this.#refusal(t) !== null) {
        // The policy's allowlist wins over a ban left in the kernel.
        await this.#kernel.del(targetText(t), t.family).catch(this.#onError);
        continue;
      }
      const until = now + k.secondsLeft * 1000;
      const b = this.#table(t);
      const key = b.keyFor(t);
      const found = b.find(key);
      if (found >= 0 && b.until[found]! > now) {
        // Made again after the last save (a longer manual ban): the kernel knows best.
        if (until > b.until[found]! + 1000) b.until[found] = until;
        continue;
      }
      const s = b.slot(key);
      b.set(s, { since: now, until, reason: 'found in the kernel ban set at start', by: 'kernel', origin: 'kernel', offense: found >= 0 ? Math.max(1, b.offense[s]!) : 1 });
      adopted++;
    }
    if (this.#active() > 0) this.#report(await this.#kernel.add(this.#running(now)).catch((err: unknown) => [err]));
    if (adopted > 0) this.#changed(false);
  }

  /** The running bans as kernel entries, made one at a time, the same ones each time asked. */
  #running(now: number): () => Iterable<KernelEntry> {
    const copies = this.#all.map((b) => runningOf(b, now));
    return function* () {
      for (const c of copies) {
        const w = c.table.width;
        for (let i = 0; i < c.length; i++) yield { target: c.table.text(c.keys.subarray(i * w, (i + 1) * w)), family: c.table.family, seconds: kernelSeconds(c.until[i]!, now) };
      }
    };
  }

  /** Resolves when every ban so far is in the kernel. */
  async flushed(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  /**
   * Writes the state file now; one write at a time, and calls made while one runs share the
   * next. Rejects if the write fails.
   */
  save(): Promise<void> {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    if (this.#nextWrite) return this.#nextWrite;
    if (this.#writing) {
      return (this.#nextWrite = this.#writing
        .catch(() => undefined)
        .then(() => {
          this.#nextWrite = null;
          return this.save();
        }));
    }
    const write = this.#write().finally(() => {
      if (this.#writing === write) this.#writing = null;
    });
    return (this.#writing = write);
  }

  /** Resolves once the changes made so far are in the file (a failed write went to onError). */
  async saved(): Promise<void> {
    await (this.#nextWrite ?? this.#writing)?.catch(() => undefined);
  }

  async #write(): Promise<void> {
    this.#sweep(this.#now());
    await this.#file.save(this.#records());
  }

  /**
   * The records, each made from its slot's columns as the file reads it: nothing is copied (a copy
   * of 100,000 bans, 3.5 MiB, raised the agent's peak after a bulk load by as much). Slots are
   * walked by number, which changes to the table during the write never disturb; a ban changed
   * meanwhile may be written as it was, and the change has asked for the next write.
   */
  *#records(): Generator<BanRecord> {
    for (const b of this.#all) {
      for (let s = 0; s < b.extent; s++) {
        if (!b.live(s)) continue;
        if (b.until[s] === 0) yield { type: 'offender', address: b.text(b.keyOf(s)), count: b.offense[s]!, last: b.since[s]! };
        else yield { type: 'ban', ...b.entry(s) };
      }
    }
  }

  #evictSoonest(now: number): void {
    let soonest: { b: BanTable; s: number } | null = null;
    for (const b of this.#all) {
      for (const s of b.slots()) if (b.until[s]! > now && (soonest === null || b.until[s]! < soonest.b.until[soonest.s]!)) soonest = { b, s };
    }
    if (soonest === null) return;
    const { address, family } = soonest.b.entry(soonest.s);
    soonest.b.end(soonest.s);
    this.#ended.evicted++;
    this.#kernel.del(address, family).catch(this.#onError);
  }

  #toKernel(b: BanTable, s: number, now: number): void {
    b.written[s] = stamp32(now);
    this.#queue(b, kernelSeconds(b.until[s]!, now), b.keyOf(s));
  }

  /** A write of `key` of table `b` for the kernel: its timeout, or 0 to lift it. */
  #queue(b: BanTable, seconds: number, key: Uint32Array): void {
    this.#pending.push(this.#all.indexOf(b), seconds, key);
    if (!this.#flushing) this.#flushing = this.#flush();
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const rows = this.#pending.take(this.#batch);
      this.#report(await this.#kernel.add(() => this.#entriesOf(rows)).catch((err: unknown) => [err]));
    }
    this.#flushing = null;
  }

  /** The kernel entries of the first `rows` of the batch, made one at a time as the kernel reads them. */
  *#entriesOf(rows: number): Generator<KernelEntry> {
    const batch = this.#batch;
    for (let at = 0; at < rows * ROW; at += ROW) {
      const b = this.#all[batch[at]!]!;
      yield { target: b.text(batch.subarray(at + 2, at + 2 + b.width)), family: b.family, seconds: batch[at + 1]! };
    }
  }

  #report(errors: readonly unknown[]): void {
    for (const err of errors) this.#onError(err);
  }

  /**
   * Runs a bulk load (a CrowdSec start-up pull of 100,000 decisions): the coalesced writes of the
   * state file wait until it ends, then one follows. Each would write the whole state again, once
   * a second of the load, and cost the agent about 12 MiB at its peak. Manual bans and unbans are
   * still on disk at once. Its bans are counted as they are made; the last few join stats().recent
   * when it ends.
   */
  async bulk<T>(load: () => Promise<T>): Promise<T> {
    this.#bulk++;
    try {
      return await load();
    } finally {
      if (--this.#bulk === 0) {
        this.#rememberBulk();
        if (this.#heldWrite) {
          this.#heldWrite = false;
          this.#changed(false);
        }
      }
    }
  }

  /** Something the state file holds changed: written soon (a manual change) or within a second (coalesced). */
  #changed(soon: boolean): void {
    if (soon) {
      this.save().catch(this.#onError);
      return;
    }
    if (this.#bulk > 0) {
      this.#heldWrite = true;
      return;
    }
    // Coalesced: under a flood of bans the file is written at most once a second.
    this.#saveTimer ??= setTimeout(() => {
      this.#saveTimer = null;
      // Armed before a bulk load began: it waits for the load too.
      if (this.#bulk > 0) this.#heldWrite = true;
      else this.save().catch(this.#onError);
    }, 1000).unref();
  }
}

const kernelSeconds = (until: number, now: number) => Math.min(MAX_KERNEL_TIMEOUT_S, Math.max(1, Math.ceil((until - now) / 1000)));

function sameList(a: readonly Cidr[], b: readonly Cidr[]): boolean {
  return a.length === b.length && a.every((x, i) => x.family === b[i]!.family && x.prefix === b[i]!.prefix && x.address === b[i]!.address);
}
