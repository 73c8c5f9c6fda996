// The ban store's kernel side: the per-family ipset sets with per-entry timeouts, `hash:ip` for
// addresses and `hash:net` for networks (range bans). Additions go in batches through one `ipset
// restore`, so many bans cost one process, and the script is made a piece at a time as ipset
// reads it (a restore of a hundred thousand bans is never one string). ipset stops at the first
// line it refuses ("Error in line N: …") having written the lines before it: the batch goes on
// from the line after, and the refused entry is reported with the kernel's message.
import { KernelCommandError } from '../errors.js';
import type { CommandRunner } from '../kernel/exec.js';
import { setNames, type Family } from '../kernel/names.js';
import type { BanKernel, KernelBan, KernelEntry } from './store.js';

const PIECE_BYTES = 64 * 1024;
/**
 * Refused lines one batch goes on past: a kernel that refuses line after line (a set missing or
 * full) costs a bounded number of processes, and the rest of the batch is reported unwritten.
 */
export const MAX_REFUSED = 16;

const setOf = (target: string, family: Family) => (target.includes('/') ? setNames(family).banNet : setNames(family).ban);
const line = (e: KernelEntry) => `add ${setOf(e.target, e.family)} ${e.target} timeout ${e.seconds} -exist`;

export function ipsetBanKernel(runner: CommandRunner): BanKernel {
  return {
    async add(entries) {
      const errors: Error[] = [];
      // Entries before `start` are written or refused.
      for (let start = 0; ; ) {
        let failure: unknown;
        try {
          await runner.run('ipset', ['restore'], script(entries(), start));
          return errors;
        } catch (err) {
          failure = err;
        }
        const at = failure instanceof KernelCommandError ? /Error in line (\d+): (.*)/.exec(failure.stderr) : null;
        const refused = at ? nth(entries(), start + Number(at[1]) - 1) : undefined;
        if (!at || refused === undefined) return [...errors, failure as Error];
        errors.push(new KernelCommandError(`ipset restore (${line(refused)})`, at[2]!, 1));
        start += Number(at[1]);
        if (errors.length === MAX_REFUSED) {
          const rest = count(entries()) - start;
          if (rest > 0) errors.push(new KernelCommandError('ipset restore', `${rest} more entries not written: the kernel refused ${MAX_REFUSED} in one batch`, 1));
          return errors;
        }
      }
    },
    async del(target, family) {
      await runner.run('ipset', ['del', setOf(target, family), target, '-exist']);
    },
    async list() {
      const bans: KernelBan[] = [];
      for (const family of [4, 6] as const) {
        for (const set of [setNames(family).ban, setNames(family).banNet]) {
          const saved = await runner.run('ipset', ['save', set]).catch((err: unknown) => {
            // A set that is not there holds no bans.
            if (err instanceof KernelCommandError && /does not exist/.test(err.stderr)) return null;
            throw err;
          });
          if (saved) bans.push(...parseBanSave(saved.stdout, set, family));
        }
      }
      return bans;
    },
  };
}

/** Reads the `add SET TARGET timeout N` lines of `ipset save`; the `create` line and anything else are skipped. */
export function parseBanSave(text: string, set: string, family: Family): KernelBan[] {
  const bans: KernelBan[] = [];
  for (const l of text.split('\n')) {
    const [op, name, target, key, value] = l.trim().split(/\s+/);
    if (op !== 'add' || name !== set || target === undefined) continue;
    bans.push({ target, family, secondsLeft: key === 'timeout' ? Number(value) : 0 });
  }
  return bans;
}

/** The script of the entries from `start` on, in pieces. */
function* script(entries: Iterable<KernelEntry>, start: number): Generator<string> {
  let piece = '';
  let i = 0;
  for (const e of entries) {
    if (i++ < start) continue;
    piece += line(e) + '\n';
    if (piece.length < PIECE_BYTES) continue;
    yield piece;
    piece = '';
  }
  if (piece !== '') yield piece;
}

function nth<T>(items: Iterable<T>, n: number): T | undefined {
  let i = 0;
  for (const item of items) if (i++ === n) return item;
  return undefined;
}

function count(items: Iterable<unknown>): number {
  let n = 0;
  for (const _ of items) n++;
  return n;
}
