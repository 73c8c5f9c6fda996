// Applying and removing the kernel plan. Apply is atomic per table (our chains are swapped by one
// `iptables-restore --noflush`) and idempotent (jumps are added only when missing); remove deletes
// exactly what apply added, so the tables are left as they were, foreign rules untouched.
import { KernelCommandError } from '../errors.js';
import type { CommandRunner } from './exec.js';
import { HOOKS, LEGACY_FILTER_CHAINS, LEGACY_HOOKS, setNames, TABLE_CHAINS, type Family, type Table } from './names.js';
import type { KernelPlan } from './render.js';

/** Where one of our jumps sits in its built-in chain: 1 is the top, 0 missing. */
export interface HookPosition {
  family: Family;
  table: Table;
  builtin: string;
  chain: string;
  position: number;
}

const TOOLS = { 4: { tables: 'iptables', restore: 'iptables-restore', save: 'iptables-save' }, 6: { tables: 'ip6tables', restore: 'ip6tables-restore', save: 'ip6tables-save' } } as const;
export const FAMILIES = [4, 6] as const;

export class KernelFirewall {
  readonly #run: CommandRunner;

  constructor(runner: CommandRunner) {
    this.#run = runner;
  }

  /**
   * Sets, then our chains, then the jumps: at no moment is a jump without its chain. A jump that is
   * not at the top of its chain (another firewall inserted above it since) moves back up: a new one
   * is inserted at the top before the old one goes, so there is always one. What is there is read
   * once per family (one `iptables-save`), so an apply costs a handful of processes.
   */
  async apply(plan: KernelPlan): Promise<void> {
    await this.#run.run('ipset', ['restore'], plan.ipset);
    for (const family of FAMILIES) {
      const t = TOOLS[family];
      await this.#run.run(t.restore, ['-w', '--noflush'], family === 4 ? plan.ipv4 : plan.ipv6);
      const now = await this.#ruleset(family);
      for (const h of HOOKS) {
        const at = now.position(h.table, h.builtin, h.chain);
        if (at === 1) continue;
        await this.#run.run(t.tables, ['-w', '-t', h.table, '-I', h.builtin, '1', '-j', h.chain]);
        if (at > 1) await this.#run.run(t.tables, ['-w', '-t', h.table, '-D', h.builtin, String(at + 1)]);
      }
      // The first layout judged in the filter table; once the new rules are in force it goes.
      if (LEGACY_FILTER_CHAINS.some((c) => now.has('filter', c))) await this.#removeChains(family, 'filter', LEGACY_FILTER_CHAINS);
    }
  }

  /** Removes every jump, chain and set of ours (the first layout's too); what is already gone is fine. */
  async remove(): Promise<void> {
    for (const family of FAMILIES) {
      for (const table of Object.keys(TABLE_CHAINS) as Table[]) {
        await this.#removeChains(family, table, table === 'filter' ? [...TABLE_CHAINS.filter, ...LEGACY_FILTER_CHAINS] : TABLE_CHAINS[table]);
      }
    }
    for (const family of FAMILIES) {
      for (const name of Object.values(setNames(family))) {
        for (const set of [name, `${name}-new`]) await this.#ok('ipset', ['destroy', set]);
      }
    }
  }

  /** True when every chain of ours exists in both families. */
  async installed(): Promise<boolean> {
    for (const family of FAMILIES) {
      const now = await this.#ruleset(family);
      if (!Object.entries(TABLE_CHAINS).every(([table, chains]) => chains.every((c) => now.has(table as Table, c)))) return false;
    }
    return true;
  }

  /** Where each of our jumps is, for `vpsfw status`. */
  async hooks(): Promise<HookPosition[]> {
    const out: HookPosition[] = [];
    for (const family of FAMILIES) {
      const now = await this.#ruleset(family);
      for (const h of HOOKS) out.push({ family, table: h.table, builtin: h.builtin, chain: h.chain, position: now.position(h.table, h.builtin, h.chain) });
    }
    return out;
  }

  async #ruleset(family: Family): Promise<Ruleset> {
    return new Ruleset((await this.#run.run(TOOLS[family].save, [])).stdout);
  }

  /** `iptables-save -c` of one family's table: the counters of every rule (kernel/counters.ts reads ours). */
  async save(family: Family, table: Table): Promise<string> {
    return (await this.#run.run(TOOLS[family].save, ['-c', '-t', table])).stdout;
  }

  /** Jumps deleted first, then every chain flushed, then deleted: a chain another still jumps to cannot go. */
  async #removeChains(family: Family, table: Table, chains: readonly string[]): Promise<void> {
    const t = TOOLS[family];
    for (const h of [...HOOKS, ...LEGACY_HOOKS]) {
      if (h.table !== table || !chains.includes(h.chain)) continue;
      while (await this.#ok(t.tables, ['-w', '-t', table, '-D', h.builtin, '-j', h.chain]));
    }
    const present: string[] = [];
    for (const chain of chains) if (await this.#ok(t.tables, ['-w', '-t', table, '-F', chain])) present.push(chain);
    for (const chain of present) await this.#run.run(t.tables, ['-w', '-t', table, '-X', chain]);
  }

  async #ok(cmd: string, args: string[]): Promise<boolean> {
    try {
      await this.#run.run(cmd, args);
      return true;
    } catch (err) {
      if (err instanceof KernelCommandError) return false;
      throw err;
    }
  }
}

/** One family's ruleset as `iptables-save` prints it: the chains of each table and the rules of each chain, in order. */
export class Ruleset {
  readonly #chains = new Map<string, Set<string>>();
  readonly #rules = new Map<string, string[]>();

  constructor(listing: string) {
    let table = '';
    for (const line of listing.split('\n')) {
      if (line.startsWith('*')) table = line.slice(1).trim();
      else if (line.startsWith(':')) this.#chainsOf(table).add(line.slice(1).split(' ')[0]!);
      else if (line.startsWith('-A ')) {
        const chain = line.split(' ')[1]!;
        const key = `${table} ${chain}`;
        this.#rules.set(key, [...(this.#rules.get(key) ?? []), line]);
      }
    }
  }

  has(table: Table, chain: string): boolean {
    return this.#chains.get(table)?.has(chain) ?? false;
  }

  /** The 1-based position of the plain jump `-j CHAIN` among BUILTIN's rules, or 0. */
  position(table: Table, builtin: string, chain: string): number {
    return (this.#rules.get(`${table} ${builtin}`) ?? []).indexOf(`-A ${builtin} -j ${chain}`) + 1;
  }

  #chainsOf(table: string): Set<string> {
    let c = this.#chains.get(table);
    if (!c) this.#chains.set(table, (c = new Set()));
    return c;
  }
}
