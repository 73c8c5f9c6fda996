// The agent's CrowdSec side, as the daemon sees it: made from the policy's `crowdsec` section,
// applied again at each reload (a part whose settings or secret changed is restarted; the rest
// runs on), stopped with the agent. The bouncer half (follower.ts) and the machine half
// (reporter.ts) are independent: either may be configured, fail or be refused alone, and neither
// ever stops the agent from protecting with its own detectors.
import type { CrowdsecSettings } from '../policy/schema.js';
import type { BanSink, SinkEntry } from './ban-sink.js';
import type { AlertDetails } from './alert.js';
import type { EventLog } from './event-log.js';
import { DecisionFollower, type FollowerStatus } from './follower.js';
import { LapiClient } from './lapi-client.js';
import { AlertReporter, type ReporterStatus } from './reporter.js';
import { readSecret } from './secret.js';

export interface CrowdsecDeps {
  sink: BanSink;
  log: EventLog;
  version: string;
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
  #follower: Running<DecisionFollower> | null = null;
  #reporter: Running<AlertReporter> | null = null;

  constructor(deps: CrowdsecDeps) {
    this.#d = deps;
  }

  /** Starts, restarts or stops each half for these settings (undefined: CrowdSec is off). */
  async apply(settings: CrowdsecSettings | undefined): Promise<void> {
    await this.#applyFollower(settings);
    await this.#applyReporter(settings);
  }

  /** A ban the agent made: reported if a machine is configured (CrowdSec's own bans never are). */
  report(ban: SinkEntry, details?: AlertDetails): void {
    this.#reporter?.part.report(ban, details);
  }

  status(): CrowdsecStatus | null {
    if (!this.#follower && !this.#reporter) return null;
    return { bouncer: this.#follower?.part.status() ?? null, machine: this.#reporter?.part.status() ?? null };
  }

  async stop(): Promise<void> {
    await this.apply(undefined);
  }

  #client(s: CrowdsecSettings): LapiClient {
    return new LapiClient({ url: s.url, timeoutMs: s.timeout, userAgent: `vpsfw/${this.#d.version}` });
  }

  async #secret(field: string, path: string): Promise<string | null> {
    try {
      return await readSecret(field, path);
    } catch (err) {
      // The old part (if any) keeps running: a reload never loses what works for a file that does not.
      this.#d.log.error({ event: 'crowdsec-error', code: (err as { code?: string }).code, err: (err as Error).message }, (err as Error).message);
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
    const part = new DecisionFollower({ client: this.#client(s), apiKey, keyFile, sink: this.#d.sink, log: this.#d.log, now: this.#d.now ?? Date.now }, { pollMs: s.pollInterval, backoffMaxMs: s.backoffMax });
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
      { client: this.#client(s), login: machine.login, password, passwordFile: machine.passwordFile, version: this.#d.version, log: this.#d.log, now: this.#d.now ?? Date.now },
      { backlog: s.reportBacklog, retryMs: s.pollInterval, backoffMaxMs: s.backoffMax },
    );
    // What the old one could not send yet goes with the new one.
    if (old) part.adopt(old.backlog());
    this.#reporter = { signature, part };
  }
}
