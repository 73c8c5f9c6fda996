import { UsageError } from '../errors.js';
import { renderKernel } from '../kernel/render.js';
import { loadPolicy } from '../policy/load.js';
import { parse, policyOption, type Io } from './args.js';

const cmd = {
  usage: `usage: vpsfw render [--policy FILE] [--family 4|6] [--format rules|json|policy]

Prints what the agent would apply for a policy (found as in \`vpsfw check\`), without applying it:
  rules   (default) the iptables-restore / ip6tables-restore documents and the ipset script
  json    the same as one JSON object {ipv4, ipv6, ipset}
  policy  the policy document itself (with no file: the built-in default policy)`,
  options: { ...policyOption, family: { type: 'string' }, format: { type: 'string' } },
} as const;

export default async function render(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const family = values.family;
  if (family !== undefined && family !== '4' && family !== '6') throw new UsageError(`--family must be 4 or 6 (got "${family}")`);
  const format = values.format ?? 'rules';
  if (!['rules', 'json', 'policy'].includes(format)) throw new UsageError(`--format must be rules, json or policy (got "${format}")`);
  const loaded = await loadPolicy({ file: values.policy, searchFrom: process.cwd() });
  if (format === 'policy') {
    io.out(JSON.stringify(loaded.document, null, 2));
    return 0;
  }
  const plan = renderKernel(loaded.policy);
  if (format === 'json') {
    io.out(JSON.stringify(family === '4' ? { ipv4: plan.ipv4, ipset: plan.ipset } : family === '6' ? { ipv6: plan.ipv6, ipset: plan.ipset } : plan, null, 2));
    return 0;
  }
  const parts = [`# vpsfw rules for ${loaded.source} (policy ${loaded.hash})`];
  if (family !== '6') parts.push('# --- iptables-restore --noflush (IPv4) ---', plan.ipv4);
  if (family !== '4') parts.push('# --- ip6tables-restore --noflush (IPv6) ---', plan.ipv6);
  parts.push('# --- ipset restore ---', plan.ipset);
  io.out(parts.join('\n'));
  return 0;
}
