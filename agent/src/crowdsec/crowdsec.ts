// The agent's CrowdSec side, as the daemon sees it: made from the policy's `crowdsec` section,
// applied again at each reload (a part whose settings or secret changed is restarted; the rest
// runs on), stopped with the agent. The bouncer half (follower.ts) hands the ban store CrowdSec's
// decisions; the machine half (reporter.ts) hears every `ban` event of the bus, whoever made the
// ban (detectors, rate limits, payload rules, `vpsfw ban`, log sources), and reports it. They are
// independent: either may be configured, fail or be refused alone, and neither ever stops the
// agent from protecting with its own detectors.
import { BAN_ORIGINS, type BanOrigin } from '../bans/store.js';
import type { AgentEvent, EventBus } from '../events/bus.js';
import type { CrowdsecSettings } from '../policy/schema.js';
import { parseDuration } from '../policy/units.js';
import type { ReportedBan } from './alert.js';
import { DecisionFollower, type BanSink, type FollowerStatus } from './follower.js';
import type { LapiClient } from './lapi-client.js';
import { AlertReporter, type ReporterStatus } from './reporter.js';
import { readSecret } from './secret.js';

export interface CrowdsecDeps {
  bans: BanSink;
  events: EventBus;
  version: string;
  /** True while the agent only judges (audit mode): the bans it makes then are not reported. */
  audit: () => boolean;
  now?: () => number;
}

export interface CrowdsecStatus {
  bouncer: FollowerStatus | null;
  machine: ReporterStatus | null;
}

interface Running<T> {
  /** The settings and secret it runs with: a reload that changes neither keeps it. */
  signature: string;
  part: T;
}

export class Crowdsec {
  readonly #d: CrowdsecDeps;
  readonly #now: () => number;
  readonly #unsubscribe: () => void;
  #follower: Running<DecisionFollower> | null = null;
  #reporter: Running<AlertReporter> | null = null;

  constructor(deps: CrowdsecDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
    this.#unsubscribe = deps.events.on((e) => this.#heard(e));
  }

  /** Starts, restarts or stops each half for these settings (undefined: CrowdSec is off). */
  async apply(settings: CrowdsecSettings | undefined): Promise<void> {
    await this.#applyFollower(settings);
    await this.#applyReporter(settings);
  }

  /** Null when the policy has no `crowdsec` section (or neither half could start). */
  status(): CrowdsecStatus | null {
    if (!this.#follower && !this.#reporter) return null;
    return { bouncer: this.#follower?.part.status() ?? null, machine: this.#reporter?.part.status() ?? null };
  }

  async stop(): Promise<void> {
    this.#unsubscribe();
    await this.apply(undefined);
  }

  /**
   * A ban, reported if a machine is configured: the reporter skips CrowdSec's own and the
   * kernel's (no echo). A `would-ban` (audit mode's) is not a ban, nor is any ban made while the
   * agent audits (a log source's, a manual one).
   */
  #heard(e: AgentEvent): void {
    if (e.event !== 'ban' || this.#reporter === null || this.#d.audit()) return;
    const ban = reportedBan(e, this.#now());
    if (ban !== null) this.#reporter.part.report(ban);
  }

  readonly #emit = (e: AgentEvent) => this.#d.events.emit(e);

  /** Loaded with the first crowdsec section: without one the agent has no HTTPS stack to hold. */
  async #client(s: CrowdsecSettings): Promise<LapiClient> {
    const { LapiClient } = await import('./lapi-client.js');
    return new LapiClient({ url: s.url, timeoutMs: s.timeout, userAgent: `vpsfw/${this.#d.version}` });
  }

  async #secret(field: string, path: string): Promise<string | null> {
    try {
      return await readSecret(field, path);
    } catch (err) {
      // The old part (if any) keeps running: a reload never loses what works for a file that does not.
      this.#d.events.emit({ event: 'crowdsec-error', level: 'error', msg: (err as Error).message, code: (err as { code?: string }).code, err: (err as Error).message });
      return null;
    }
  }

  async #applyFollower(s: CrowdsecSettings | undefined): Promise<void> {
    const keyFile = s?.bouncerKeyFile;
    if (!s || keyFile === undefined) {
      await this.#follower?.part.stop();
      this.#follower = null;
      return;
    }
    const apiKey = await this.#secret('crowdsec.bouncerKeyFile', keyFile);
    if (apiKey === null) return;
    const signature = JSON.stringify([s.url, s.timeout, s.pollInterval, s.backoffMax, keyFile, apiKey]);
    if (this.#follower?.signature === signature) return;
    await this.#follower?.part.stop();
    const part = new DecisionFollower({ client: await this.#client(s), apiKey, keyFile, sink: this.#d.bans, emit: this.#emit, now: this.#now }, { pollMs: s.pollInterval, backoffMaxMs: s.backoffMax });
    this.#follower = { signature, part };
    part.start();
  }

  async #applyReporter(s: CrowdsecSettings | undefined): Promise<void> {
    const machine = s?.machine;
    if (!s || machine === undefined) {
      await this.#reporter?.part.stop();
      this.#reporter = null;
      return;
    }
    const password = await this.#secret('crowdsec.machine.passwordFile', machine.passwordFile);
    if (password === null) return;
    const signature = JSON.stringify([s.url, s.timeout, s.pollInterval, s.backoffMax, s.reportBacklog, machine.login, machine.passwordFile, password]);
    if (this.#reporter?.signature === signature) return;
    const old = this.#reporter?.part;
    await old?.stop();
    const part = new AlertReporter(
      { client: await this.#client(s), login: machine.login, password, passwordFile: machine.passwordFile, version: this.#d.version, emit: this.#emit, now: this.#now },
      { backlog: s.reportBacklog, retryMs: s.pollInterval, backoffMaxMs: s.backoffMax },
    );
    // What the old one could not send yet goes with the new one.
    if (old) part.adopt(old.backlog());
    this.#reporter = { signature, part };
  }
}

/**
 * The ban a `ban` event tells of (bans/events.ts: the address, who and why, its end and length),
 * or null if the event does not hold one.
 */
export function reportedBan(e: AgentEvent, now: number): ReportedBan | null {
  const { address, by, origin, reason, until, duration } = e;
  if (typeof address !== 'string' || typeof by !== 'string' || typeof reason !== 'string' || typeof until !== 'string') return null;
  if (!BAN_ORIGINS.includes(origin as BanOrigin)) return null;
  const end = Date.parse(until);
  if (!Number.isFinite(end)) return null;
  const ms = typeof duration === 'string' ? parseDuration(duration) : null;
  return { address, by, origin: origin as BanOrigin, reason, since: ms === null ? now : end - ms, until: end };
}
