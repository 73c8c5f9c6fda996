// The ban store's kernel side: the per-family ipset `hash:ip` sets with per-entry timeouts.
// Additions go in batches through one `ipset restore`, so many bans cost one process, and the
// script is made a piece at a time as ipset reads it (a restore of a hundred thousand bans is
// never one string).
import type { CommandRunner } from '../kernel/exec.js';
import { setNames } from '../kernel/names.js';
import type { BanKernel } from './store.js';

const PIECE_BYTES = 64 * 1024;

export function ipsetBanKernel(runner: CommandRunner): BanKernel {
  return {
    add(entries) {
      return runner.run('ipset', ['restore'], script(entries)).then(() => undefined);
    },
    async del(address, family) {
      await runner.run('ipset', ['del', setNames(family).ban, address, '-exist']);
    },
  };
}

function* script(entries: Parameters<BanKernel['add']>[0]): Generator<string> {
  let piece = '';
  for (const e of entries) {
    piece += `add ${setNames(e.family).ban} ${e.address} timeout ${e.seconds} -exist\n`;
    if (piece.length < PIECE_BYTES) continue;
    yield piece;
    piece = '';
  }
  if (piece !== '') yield piece;
}
