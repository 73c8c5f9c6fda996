// The ban store's kernel side: the per-family ipset `hash:ip` sets with per-entry timeouts.
// Additions go in batches through one `ipset restore`, so many bans cost one process.
import type { CommandRunner } from '../kernel/exec.js';
import { setNames } from '../kernel/names.js';
import type { BanKernel } from './store.js';

export function ipsetBanKernel(runner: CommandRunner): BanKernel {
  return {
    async add(entries) {
      const script = entries.map((e) => `add ${setNames(e.family).ban} ${e.address} timeout ${e.seconds} -exist\n`).join('');
      await runner.run('ipset', ['restore'], script);
    },
    async del(address, family) {
      await runner.run('ipset', ['del', setNames(family).ban, address, '-exist']);
    },
  };
}
