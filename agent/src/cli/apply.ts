import { join } from 'node:path';
import { ipsetBanKernel } from '../bans/kernel-set.js';
import { banSettings } from '../bans/settings.js';
import { jsonStateFile } from '../bans/state-file.js';
import { BanStore } from '../bans/store.js';
import { DEFAULT_STATE_DIR } from '../control/protocol.js';
import { KernelFirewall } from '../kernel/apply.js';
import { realRunner } from '../kernel/exec.js';
import { renderKernel } from '../kernel/render.js';
import { loadPolicy } from '../policy/load.js';
import { parse, policyOption, type Io } from './args.js';

const cmd = {
  usage: `usage: vpsfw apply [--policy FILE] [--state-dir DIR]

Puts a policy's kernel rules and sets in force, writes the saved bans back into the kernel, and
exits: what the vpsfw-rules unit runs at start and at reload, so the rules, bans and denied
networks stay in force while the agent restarts. Each table is swapped at once, and running it
again changes nothing; jumps another firewall pushed down are moved back to the top. Remove it all
with \`vpsfw cleanup\`.
  --policy FILE    the policy (default: the built-in one)
  --state-dir DIR  where the agent keeps its bans (default ${DEFAULT_STATE_DIR})`,
  options: { ...policyOption, 'state-dir': { type: 'string' } },
} as const;

export default async function apply(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const loaded = await loadPolicy({ file: values.policy });
  const runner = realRunner();
  const kernel = new KernelFirewall(runner);
  await kernel.apply(renderKernel(loaded.policy));
  const problems: unknown[] = [];
  const bans = new BanStore(
    {
      kernel: ipsetBanKernel(runner),
      file: jsonStateFile(loaded.policy.bans.stateFile ?? join(values['state-dir'] ?? DEFAULT_STATE_DIR, 'bans.json')),
      now: Date.now,
      onError: (err) => problems.push(err),
    },
    banSettings(loaded.policy),
  );
  // The saved bans and the kernel's reconciled both ways (a bad line is reported, the rest kept).
  const restored = await bans.restore();
  await bans.save();
  for (const p of problems) io.err(`vpsfw apply: ${(p as Error).message}`);
  io.out(`applied ${loaded.source} (policy ${loaded.hash}); ${restored} saved ban${restored === 1 ? '' : 's'} in the kernel`);
  return 0;
}
