// vpsfw as a CrowdSec bouncer: follows the LAPI's decisions stream and hands its bans to the ban
// store. A full pull at start (everything in force, and what has ended), then the changes every
// pollInterval. The LAPI unreachable: what is enforced stays, the agent retries with a doubling
// wait, says so once per outage and once when it is back, and catches up (the LAPI keeps this
// bouncer's mark; a pull whose answer may have been lost is followed by a full one). A bulk load
// goes in batches, each in the kernel before the one after next is applied, with the event loop
// free in between.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { banEvent } from '../bans/events.js';
import type { BanStore } from '../bans/store.js';
import { mapDecision } from './decision.js';
import type { LapiClient } from './lapi-client.js';
import { LapiError } from './lapi-error.js';
import { backoffMs, delayOf, Outages, type RoleDeps } from './retry.js';
import type { StreamedDecision } from './stream-parser.js';

/** What the follower asks of the ban store (unit tests give a fake). */
export type BanSink = Pick<BanStore, 'ban' | 'bulkBan' | 'unban' | 'flushed' | 'bulk'>;

export interface FollowerSettings {
  pollMs: number;
  backoffMaxMs: number;
  /** Decisions applied between two writes to the kernel (and turns of the event loop). */
  batch?: number;
}

export interface FollowerDeps extends RoleDeps {
  client: Pick<LapiClient, 'decisionsStream' | 'url'>;
  apiKey: string;
  /** Where the key came from, for the error that says it is wrong. */
  keyFile: string;
  sink: BanSink;
}

export interface SyncCounts {
  banned: number;
  already: number;
  lifted: number;
  allowlisted: number;
  refused: number;
  ignored: number;
}

export interface FollowerStatus {
  url: string;
  /** starting: no answer yet; ok: the last pull worked; unreachable / unauthorized: it failed. */
  state: 'starting' | 'ok' | 'unreachable' | 'unauthorized';
  lastPullAt: number | null;
  pulls: number;
  failures: number;
  /** Since start. */
  decisions: SyncCounts;
}

const BATCH = 1000;
const MAX_IGNORED_KINDS = 100;

const zero = (): SyncCounts => ({ banned: 0, already: 0, lifted: 0, allowlisted: 0, refused: 0, ignored: 0 });

export class DecisionFollower {
  readonly #d: FollowerDeps;
  readonly #settings: Required<FollowerSettings>;
  readonly #stop = new AbortController();
  readonly #ignoredKinds = new Set<string>();
  readonly #total = zero();
  #state: FollowerStatus['state'] = 'starting';
  #lastPullAt: number | null = null;
  #pulls = 0;
  readonly #outages = new Outages();
  #loop: Promise<void> | null = null;

  constructor(deps: FollowerDeps, settings: FollowerSettings) {
    this.#d = deps;
    this.#settings = { batch: BATCH, ...settings };
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops pulling (an answer being read is abandoned); the bans stay. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  status(): FollowerStatus {
    return { url: this.#d.client.url, state: this.#state, lastPullAt: this.#lastPullAt, pulls: this.#pulls, failures: this.#outages.failures, decisions: { ...this.#total } };
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    const delay = delayOf(this.#d);
    let full = true;
    let failuresInRow = 0;
    while (!signal.aborted) {
      let wait = this.#settings.pollMs;
      try {
        // A full pull may be every decision the LAPI holds: one bulk load for the store.
        await (full ? this.#d.sink.bulk(() => this.#pull(full, signal)) : this.#pull(full, signal));
        full = false;
        failuresInRow = 0;
      } catch (err) {
        if (signal.aborted) break;
        failuresInRow++;
        wait = backoffMs(this.#settings.pollMs, this.#settings.backoffMaxMs, failuresInRow);
        // The LAPI moves this bouncer's mark when it answers: if the answer may have been lost, only
        // a full pull is sure to bring back what it held.
        if (!(err instanceof LapiError) || err.mayHaveArrived) full = true;
        this.#failed(err, wait);
      }
      await delay(wait, signal).catch(() => undefined);
    }
  }

  async #pull(full: boolean, signal: AbortSignal): Promise<void> {
    const started = this.#d.now();
    const counts = zero();
    let sinceFlush = 0;
    // The kernel writes one batch while the next is parsed and applied: at most two are waiting.
    let writing: Promise<unknown> = Promise.resolve();
    // Lifts go to the kernel in the store's batches too: each resolves once written.
    let lifts: Promise<void>[] = [];
    for await (const items of this.#d.client.decisionsStream(this.#d.apiKey, full, signal)) {
      // Each piece of the answer is applied as it is parsed: its decisions die young, and a bulk
      // load leaves the collector little to do.
      for (const item of items) {
        const lifting = this.#apply(item, full, counts);
        if (lifting) lifts.push(lifting);
      }
      sinceFlush += items.length;
      // Applied: dropped now, not when the next piece is read (the kernel may be waited for first).
      items.length = 0;
      if (sinceFlush < this.#settings.batch) continue;
      sinceFlush = 0;
      // The batch before this one into the kernel, and a turn of the event loop for the packets.
      await writing;
      writing = Promise.all([this.#d.sink.flushed(), ...lifts]);
      lifts = [];
      // Awaited at the next batch, or at the end: a failure surfaces there, never unobserved.
      writing.catch(() => undefined);
      await nextTurn();
    }
    await writing;
    await Promise.all(lifts);
    await this.#d.sink.flushed();
    this.#pulls++;
    this.#lastPullAt = this.#d.now();
    this.#state = 'ok';
    const downForMs = this.#outages.ended(this.#lastPullAt);
    if (downForMs !== null) this.#d.emit({ event: 'crowdsec-reachable', level: 'info', msg: 'CrowdSec LAPI reachable again: decisions followed', role: 'bouncer', url: this.#d.client.url, downForMs, failures: this.#outages.failures });
    // A full pull says what it did in one line (a hundred thousand decisions are not a hundred
    // thousand lines); a delta has said it ban by ban.
    if (full) this.#d.emit({ event: 'crowdsec-sync', level: 'info', msg: `CrowdSec decisions loaded: ${counts.banned} banned, ${counts.lifted} lifted`, full, ...counts, durationMs: this.#lastPullAt - started });
  }

  #count(counts: SyncCounts, k: keyof SyncCounts): void {
    counts[k]++;
    this.#total[k]++;
  }

  /** Applies one decision; a lift (which waits for the kernel) is the one case that returns a promise. */
  #apply({ list, decision }: StreamedDecision, full: boolean, counts: SyncCounts): Promise<void> | undefined {
    const { sink, emit } = this.#d;
    const m = mapDecision(decision);
    if (m.kind === 'ignored') {
      this.#count(counts, 'ignored');
      if (!this.#ignoredKinds.has(m.what) && this.#ignoredKinds.size < MAX_IGNORED_KINDS) {
        this.#ignoredKinds.add(m.what);
        emit({ event: 'crowdsec-ignored', level: 'info', msg: `CrowdSec decisions with ${m.what} are not enforced (logged once)`, what: m.what, value: m.value });
      }
      return undefined;
    }
    if (list === 'deleted') {
      return sink.unban(m.target, { origin: 'crowdsec' }).then((lifted) => {
        if (!lifted) return;
        this.#count(counts, 'lifted');
        if (!full) emit({ event: 'unban', level: 'warn', msg: `unban ${m.target}`, address: m.target, by: 'crowdsec', origin: 'crowdsec', scenario: m.scenario });
      });
    }
    // What the decision has left in whole seconds (the kernel's unit), rounded down: a ban of our
    // own that CrowdSec echoes back is never lengthened by its echo (the store lengthens, never
    // shortens).
    const durationMs = Math.floor(m.remainingMs / 1000) * 1000;
    if (list !== 'new' || durationMs <= 0) return undefined;
    const req = { target: m.target, durationMs, reason: m.scenario, by: 'crowdsec', origin: 'crowdsec', scenario: m.scenario, escalate: false } as const;
    // A full pull says what it did in one line: it needs no entry per ban.
    if (full) {
      this.#count(counts, sink.bulkBan(req));
      return undefined;
    }
    const r = sink.ban(req);
    if (r.kind === 'banned') {
      this.#count(counts, 'banned');
      emit(banEvent(r.entry));
    } else if (r.kind === 'already') this.#count(counts, 'already');
    else {
      this.#count(counts, r.kind === 'allowlisted' ? 'allowlisted' : 'refused');
      emit({ event: 'ban-refused', level: 'info', msg: `not banned: ${m.target}`, address: m.target, by: 'crowdsec', origin: 'crowdsec', scenario: m.scenario, why: r.kind === 'allowlisted' ? 'allowlisted' : r.reason });
    }
    return undefined;
  }

  #failed(err: unknown, retryInMs: number): void {
    const { auth, event } = this.#outages.failure(err, this.#d.now(), retryInMs, {
      name: 'bouncer',
      url: this.#d.client.url,
      refused: (message) => ({
        msg: `CrowdSec LAPI refused the bouncer key in ${this.#d.keyFile} (${message}): register this agent (cscli bouncers add NAME) and put the key in that file. Decisions are not followed meanwhile; the agent's own detectors and its bans stay in force`,
        keyFile: this.#d.keyFile,
      }),
      unreachable: (message) => ({ msg: `CrowdSec LAPI unreachable (${message}): the bans in force stay; retrying (logged once until it is back)` }),
    });
    this.#state = auth ? 'unauthorized' : 'unreachable';
    if (event) this.#d.emit(event);
  }
}
