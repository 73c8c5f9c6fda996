// INTERIM, until the ban store takes the spec's BanRequest itself (wave spec, "Bans: one kind of
// request", network bans in vpsfw-bannet4|6): the current BanStore as a BanSink. Addresses go to
// the store; CrowdSec's networks are kept here, beside it, and written to the kernel's hash:net
// ban sets. Delete this file when that store lands: the daemon then hands the store itself.
import type { BanStore } from '../bans/store.js';
import type { CommandRunner } from '../kernel/exec.js';
import { setNames } from '../kernel/names.js';
import { parseCidr, type Cidr } from '../policy/units.js';
import type { BanOrigin, BanRequest, BanResult, BanSink, SinkEntry } from './ban-sink.js';
import { overlaps } from './network.js';

type NetBan = SinkEntry & { family: 4 | 6 };

export class InterimSink implements BanSink {
  readonly #store: BanStore;
  readonly #run: CommandRunner;
  readonly #now: () => number;
  readonly #allowlist: () => readonly Cidr[];
  readonly #onError: (err: unknown) => void;
  readonly #nets = new Map<string, NetBan>();
  #pending: string[] = [];
  #flushing: Promise<void> | null = null;

  constructor(store: BanStore, runner: CommandRunner, opts: { now: () => number; allowlist: () => readonly Cidr[]; onError: (err: unknown) => void }) {
    this.#store = store;
    this.#run = runner;
    this.#now = opts.now;
    this.#allowlist = opts.allowlist;
    this.#onError = opts.onError;
  }

  ban(req: BanRequest): BanResult {
    if (!req.target.includes('/')) return this.#store.ban(req.target, req);
    const net = parseCidr(req.target);
    if (net === null || net.prefix === 0) return { kind: 'refused', reason: `${req.target} is not a network that can be banned` };
    // The allowlist wins: a network holding an allowlisted address is not banned at all.
    if (this.#allowlist().some((a) => overlaps(a, net))) return { kind: 'allowlisted' };
    const now = this.#now();
    const ms = req.durationMs ?? 3_600_000;
    const old = this.#nets.get(req.target);
    if (old && old.until >= now + ms) return { kind: 'already', entry: old };
    const entry: NetBan = { address: req.target, family: net.family, since: now, until: now + ms, reason: req.reason, by: req.by, origin: req.origin, scenario: req.scenario, offense: 1 };
    this.#nets.set(req.target, entry);
    this.#pending.push(`add ${setNames(net.family).bannet} ${req.target} timeout ${Math.max(1, Math.ceil(ms / 1000))} -exist\n`);
    this.#flushing ??= this.#flush();
    return { kind: 'banned', entry };
  }

  async unban(target: string, only: { origin: BanOrigin }): Promise<boolean> {
    if (!target.includes('/')) return this.#store.unban(target, only);
    const old = this.#nets.get(target);
    if (!old || old.until <= this.#now() || old.origin !== only.origin) return false;
    this.#nets.delete(target);
    await this.flushed();
    await this.#run.run('ipset', ['del', setNames(old.family).bannet, target, '-exist']).catch(this.#onError);
    return true;
  }

  async flushed(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    await this.#store.flushed();
  }

  /** The network bans in force, for `vpsfw bans`. */
  networks(): NetBan[] {
    const now = this.#now();
    for (const [k, v] of this.#nets) if (v.until <= now) this.#nets.delete(k);
    return [...this.#nets.values()];
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const script = this.#pending.splice(0).join('');
      await this.#run.run('ipset', ['restore'], script).catch(this.#onError);
    }
    this.#flushing = null;
  }
}
