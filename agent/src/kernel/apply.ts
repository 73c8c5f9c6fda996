// Applying and removing the kernel plan. Apply is atomic per table (our chains are swapped by one
// `iptables-restore --noflush`) and idempotent (jumps are added only when missing); remove deletes
// exactly what apply added, so the tables are left as they were, foreign rules untouched.
import { KernelCommandError } from '../errors.js';
import type { CommandRunner } from './exec.js';
import { CHAINS, HOOKS, setNames } from './names.js';
import type { KernelPlan } from './render.js';

const TOOLS = { 4: { tables: 'iptables', restore: 'iptables-restore' }, 6: { tables: 'ip6tables', restore: 'ip6tables-restore' } } as const;
const FAMILIES = [4, 6] as const;

export class KernelFirewall {
  readonly #run: CommandRunner;

  constructor(runner: CommandRunner) {
    this.#run = runner;
  }

  async apply(plan: KernelPlan): Promise<void> {
    // Sets first: the rules refer to them.
    await this.#run.run('ipset', ['restore'], plan.ipset);
    for (const family of FAMILIES) {
      const t = TOOLS[family];
      await this.#run.run(t.restore, ['-w', '--noflush'], family === 4 ? plan.ipv4 : plan.ipv6);
      for (const h of HOOKS) {
        if (!(await this.#ok(t.tables, ['-w', '-C', h.builtin, '-j', h.chain]))) {
          await this.#run.run(t.tables, ['-w', '-I', h.builtin, '1', '-j', h.chain]);
        }
      }
    }
  }

  /** Removes every jump, chain and set of ours; what is already gone is fine. */
  async remove(): Promise<void> {
    for (const family of FAMILIES) {
      const t = TOOLS[family];
      for (const h of HOOKS) {
        while (await this.#ok(t.tables, ['-w', '-D', h.builtin, '-j', h.chain]));
      }
      // All flushed before any is deleted: a chain of ours that another still jumps to cannot go.
      const present: string[] = [];
      for (const chain of Object.values(CHAINS)) {
        if (await this.#ok(t.tables, ['-w', '-F', chain])) present.push(chain);
      }
      for (const chain of present) await this.#run.run(t.tables, ['-w', '-X', chain]);
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
      for (const chain of Object.values(CHAINS)) {
        if (!(await this.#ok(TOOLS[family].tables, ['-w', '-S', chain]))) return false;
      }
    }
    return true;
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
