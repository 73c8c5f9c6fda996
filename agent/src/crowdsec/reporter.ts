// vpsfw as a CrowdSec machine: every ban the agent makes itself goes to the LAPI as an alert with
// its decision (crowdsec.ts hands it each `ban` event of the bus). `report` only queues (judging
// never waits for the network); a sender logs in
// (a JWT, renewed before it runs out and whenever the LAPI says it has), sends the queue in
// batches, and while the LAPI cannot take them keeps a bounded backlog (the oldest dropped and
// counted), retrying with a doubling wait, logged once per outage. Bans that came from CrowdSec
// are never sent back: every agent of the fleet would echo every decision forever.
import { alertOf, SCENARIOS, type AlertDetails, type ReportedBan } from './alert.js';
import type { LapiClient } from './lapi-client.js';
import { LapiError } from './lapi-error.js';
import { backoffMs, delayOf, Outages, type RoleDeps } from './retry.js';

export interface ReporterSettings {
  /** Alerts kept while the LAPI cannot take them. */
  backlog: number;
  retryMs: number;
  backoffMaxMs: number;
}

export interface ReporterDeps extends RoleDeps {
  client: Pick<LapiClient, 'login' | 'pushAlerts' | 'url'>;
  login: string;
  password: string;
  passwordFile: string;
  version: string;
}

export interface ReporterStatus {
  url: string;
  login: string;
  state: 'idle' | 'ok' | 'unreachable' | 'unauthorized';
  sent: number;
  queued: number;
  dropped: number;
  /** Bans not reported because CrowdSec (or the kernel, at start) made them. */
  skipped: number;
  failures: number;
}

type Queued = { ban: ReportedBan; details: AlertDetails };

/** Alerts per POST. */
const BATCH = 50;
/** A token is renewed this long before the LAPI says it ends. */
const RENEW_BEFORE_MS = 60_000;

export class AlertReporter {
  readonly #d: ReporterDeps;
  readonly #settings: ReporterSettings;
  readonly #stop = new AbortController();
  #queue: Queued[] = [];
  #token: { token: string; expiresAt: number } | null = null;
  #sending: Promise<void> | null = null;
  #state: ReporterStatus['state'] = 'idle';
  #sent = 0;
  #dropped = 0;
  #skipped = 0;
  readonly #outages = new Outages();
  #loggedDrop = false;

  constructor(deps: ReporterDeps, settings: ReporterSettings) {
    this.#d = deps;
    this.#settings = settings;
  }

  /** Queues a ban for the LAPI, unless CrowdSec made it; never waits. */
  report(ban: ReportedBan, details: AlertDetails = {}): void {
    if (ban.origin === 'crowdsec' || ban.origin === 'kernel') {
      this.#skipped++;
      return;
    }
    this.#queue.push({ ban, details });
    this.#trim();
    if (!this.#stop.signal.aborted) this.#sending ??= this.#send().finally(() => (this.#sending = null));
  }

  /** The alerts not sent yet, for the reporter that replaces this one (a reload). */
  backlog(): Queued[] {
    return [...this.#queue];
  }

  adopt(backlog: readonly Queued[]): void {
    for (const q of backlog) this.report(q.ban, q.details);
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#sending;
  }

  status(): ReporterStatus {
    return { url: this.#d.client.url, login: this.#d.login, state: this.#state, sent: this.#sent, queued: this.#queue.length, dropped: this.#dropped, skipped: this.#skipped, failures: this.#outages.failures };
  }

  #trim(): void {
    const over = this.#queue.length - this.#settings.backlog;
    if (over <= 0) return;
    this.#queue.splice(0, over);
    this.#dropped += over;
    if (this.#loggedDrop) return;
    this.#loggedDrop = true;
    this.#d.emit({ event: 'crowdsec-alerts-dropped', level: 'warn', msg: `CrowdSec alert backlog full (${this.#settings.backlog}): the oldest are dropped (counted in status; logged once until the LAPI takes alerts again)`, backlog: this.#settings.backlog });
  }

  async #send(): Promise<void> {
    const signal = this.#stop.signal;
    const delay = delayOf(this.#d);
    let failuresInRow = 0;
    while (this.#queue.length > 0 && !signal.aborted) {
      const batch = this.#queue.splice(0, BATCH);
      try {
        await this.#push(batch, signal);
        this.#sent += batch.length;
        failuresInRow = 0;
        this.#recovered();
      } catch (err) {
        // Back at the head, the oldest first; what no longer fits is dropped.
        this.#queue.unshift(...batch);
        this.#trim();
        if (signal.aborted) return;
        failuresInRow++;
        const wait = backoffMs(this.#settings.retryMs, this.#settings.backoffMaxMs, failuresInRow);
        this.#failed(err, wait);
        await delay(wait, signal).catch(() => undefined);
      }
    }
  }

  async #push(batch: readonly Queued[], signal: AbortSignal): Promise<void> {
    const alerts = batch.map((q) => alertOf(q.ban, this.#d.version, q.details));
    const token = await this.#tokenNow(signal);
    try {
      await this.#d.client.pushAlerts(token, alerts, signal);
    } catch (err) {
      // The LAPI forgot the token (restarted with a new secret, or it expired early): log in again once.
      if (!(err instanceof LapiError && err.status === 401)) throw err;
      this.#token = null;
      await this.#d.client.pushAlerts(await this.#tokenNow(signal), alerts, signal);
    }
  }

  async #tokenNow(signal: AbortSignal): Promise<string> {
    if (this.#token === null || this.#d.now() >= this.#token.expiresAt - RENEW_BEFORE_MS) {
      this.#token = await this.#d.client.login(this.#d.login, this.#d.password, SCENARIOS, signal);
    }
    return this.#token.token;
  }

  #recovered(): void {
    this.#state = 'ok';
    const downForMs = this.#outages.ended(this.#d.now());
    if (downForMs === null) return;
    this.#d.emit({ event: 'crowdsec-reachable', level: 'info', msg: 'CrowdSec LAPI reachable again: alerts sent', role: 'machine', url: this.#d.client.url, downForMs, queued: this.#queue.length, dropped: this.#dropped });
    this.#loggedDrop = false;
  }

  #failed(err: unknown, retryInMs: number): void {
    const { auth, event } = this.#outages.failure(err, this.#d.now(), retryInMs, {
      name: 'machine',
      url: this.#d.client.url,
      refused: (message) => ({
        msg: `CrowdSec LAPI refused machine ${this.#d.login} with the password in ${this.#d.passwordFile} (${message}): register it (cscli machines add ${this.#d.login} --password ...) and put the password in that file. Bans are queued meanwhile`,
        login: this.#d.login,
        passwordFile: this.#d.passwordFile,
      }),
      unreachable: (message) => ({ msg: `CrowdSec LAPI cannot take alerts (${message}): queued, retrying (logged once until it is back)`, queued: this.#queue.length }),
    });
    this.#state = auth ? 'unauthorized' : 'unreachable';
    if (event) this.#d.emit(event);
  }
}
