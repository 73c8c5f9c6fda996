// The ban store's kernel side: the per-family ipset `hash:ip` sets with per-entry timeouts.
// Additions go in batches through one `ipset restore`, so many bans cost one process.
import type { CommandRunner } from '../kernel/exec.js';
import { setNames } from '../kernel/names.js';
import type { BanKernel } from './store.js';

export function ipsetBanKernel(runner: CommandRunner): BanKernel {
  return {
    // Not async: the entries are let go once the script is made, not kept while ipset runs.
    add(entries) {
      const script = entries.map((e) => `add ${setNames(e.family).ban} ${e.address} timeout ${e.seconds} -exist\n`).join('');
      return runner.run('ipset', ['restore'], script).then(() => undefined);
    },
    async del(address, family) {
      await runner.run('ipset', ['del', setNames(family).ban, address, '-exist']);
    },
  };
}
