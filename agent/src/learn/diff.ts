// What a proposed policy changes in the running one, entry by entry: rules and rate limits by
// name, denied networks by value, any other setting by its key. Pure.
type Doc = Record<string, unknown>;
type Named = { name: string } & Record<string, unknown>;

function describe(r: Named): string {
  const { name: _n, ...rest } = r;
  return Object.entries(rest).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
}

export function policyDiff(current: Doc | null, next: Doc): string[] {
  const cur = current ?? {};
  const out: string[] = [];
  for (const key of ['rules', 'rateLimits'] as const) {
    const a = new Map(((cur[key] as Named[] | undefined) ?? []).map((r) => [r.name, r]));
    const b = new Map(((next[key] as Named[] | undefined) ?? []).map((r) => [r.name, r]));
    for (const [name, r] of a) if (!b.has(name)) out.push(`- ${key} ${name}: ${describe(r)}`);
    for (const [name, r] of b) {
      const was = a.get(name);
      if (!was) out.push(`+ ${key} ${name}: ${describe(r)}`);
      else if (JSON.stringify(was) !== JSON.stringify(r)) out.push(`~ ${key} ${name}: ${describe(was)} → ${describe(r)}`);
    }
  }
  const da = new Set((cur.denyNetworks as string[] | undefined) ?? []);
  const db = new Set((next.denyNetworks as string[] | undefined) ?? []);
  for (const n of da) if (!db.has(n)) out.push(`- denyNetworks ${n}`);
  for (const n of db) if (!da.has(n)) out.push(`+ denyNetworks ${n}`);
  for (const key of new Set([...Object.keys(cur), ...Object.keys(next)])) {
    if (key === 'rules' || key === 'rateLimits' || key === 'denyNetworks') continue;
    const a = JSON.stringify(cur[key]);
    const b = JSON.stringify(next[key]);
    if (a !== b) out.push(`~ ${key}: ${a ?? '(default)'} → ${b ?? '(default)'}`);
  }
  return out;
}
