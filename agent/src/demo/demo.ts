// `vpsfw demo`: the agent on its default policy (plus one demo payload rule and the web port it
// watches) in a server namespace, attacked with real packets from an attacker namespace while a
// client goes about its business. Each scene has its own source address, so the table can say
// who was banned for what. Every load is bounded in count and time.
import { defaultPolicyDocument } from '../policy/defaults.js';
import type { PolicyInput } from '../policy/schema.js';
import { startAgent, type AgentProcess } from './agent-process.js';
import { makeLab, type Lab } from './lab.js';
import { pingCount, probe, startService } from './probes.js';

export const DEMO_POLICY: PolicyInput = {
  ...defaultPolicyDocument,
  rules: [...(defaultPolicyDocument.rules ?? []), { name: 'http', action: 'accept', protocol: 'tcp', ports: [80] }],
  payloadRules: [{ name: 'demo-path-traversal', protocol: 'tcp', ports: [80], pattern: { text: '/etc/passwd' }, action: 'drop', ban: false }],
};

export interface SceneResult {
  scene: string;
  source: string;
  sent: string;
  observed: string;
  decidedBy: string;
  banned: boolean;
  expected: string;
  ok: boolean;
}

interface Ctx {
  lab: Lab;
  agent: AgentProcess;
}

type Counters = Record<string, number>;

async function decidedBy(agent: AgentProcess): Promise<Counters> {
  const r = await agent.cli(['status', '--json']);
  if (r.code !== 0) throw new Error(`vpsfw status failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { decidedBy: Counters }).decidedBy;
}

function delta(before: Counters, after: Counters): string {
  return Object.entries(after)
    .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
    .filter(([, d]) => d > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, d]) => `${k} ×${d}`)
    .join(', ');
}

async function banned(agent: AgentProcess, address: string): Promise<string | null> {
  const r = await agent.cli(['bans', '--json']);
  const list = JSON.parse(r.stdout) as Array<{ address: string; by: string }>;
  return list.find((b) => b.address === address)?.by ?? null;
}

async function waitBan(agent: AgentProcess, address: string, timeoutMs = 3000): Promise<string | null> {
  const e = await agent.waitFor((ev) => ev.event === 'ban' && ev.address === address, timeoutMs, `a ban of ${address}`).catch(() => null);
  return e ? String(e.by) : banned(agent, address);
}

async function scene(c: Ctx, name: string, source: string, expected: string, play: () => Promise<{ sent: string; observed: string; ok: (banBy: string | null, by: string) => boolean }>): Promise<SceneResult> {
  const before = await decidedBy(c.agent);
  const r = await play();
  const banBy = await banned(c.agent, source);
  const by = delta(before, await decidedBy(c.agent));
  return { scene: name, source, sent: r.sent, observed: r.observed, decidedBy: by || '-', banned: banBy !== null, expected, ok: r.ok(banBy, by) };
}

export async function runScenes(c: Ctx): Promise<SceneResult[]> {
  const { lab } = c;
  const srv = lab.attacker.server4;
  const results: SceneResult[] = [];
  const flood = await lab.attackerAlias(0);
  const icmp = await lab.attackerAlias(1);
  const big = await lab.attackerAlias(2);
  const scan = await lab.attackerAlias(3);
  const web = await lab.attackerAlias(4);

  results.push(
    await scene(c, 'normal client session (ssh port, ping)', lab.client.ip4, 'allowed', async () => {
      const p = await probe(lab, lab.client.ns, lab.client.server4, 22, { chunks: ['hello', 'bye'] });
      const pongs = await pingCount(lab, lab.client.ns, lab.client.server4, { count: 3 });
      return { sent: '1 TCP session, 3 pings', observed: `session ${p.replies === 2 ? 'answered' : 'failed'}, ${pongs}/3 pongs`, ok: (b) => p.replies === 2 && pongs === 3 && b === null };
    }),
  );

  results.push(
    await scene(c, 'SYN flood on port 80', flood.ip4, 'banned by detector:synFlood; client unaffected', async () => {
      await lab.status(lab.attacker.ns, 'hping3', ['-q', '-S', '-p', '80', '-i', 'u500', '-c', '2000', '-a', flood.ip4, srv], { timeoutMs: 15_000 });
      const by = await waitBan(c.agent, flood.ip4);
      const p = await probe(lab, lab.client.ns, lab.client.server4, 22);
      return { sent: '2000 SYNs in ~1 s', observed: `${by ? `banned (${by})` : 'not banned'}; client session ${p.replies > 0 ? 'answered' : 'failed'}`, ok: (b) => b === 'detector:synFlood' && p.replies > 0 };
    }),
  );

  results.push(
    await scene(c, 'ICMP echo flood', icmp.ip4, 'banned by detector:icmpFlood', async () => {
      const pongs = await pingCount(lab, lab.attacker.ns, srv, { count: 300, flood: true, local: icmp.ip4, deadlineS: 5 });
      const by = await waitBan(c.agent, icmp.ip4);
      return { sent: '300 pings, flood mode', observed: `${pongs}/300 pongs, ${by ? `banned (${by})` : 'not banned'}`, ok: (b) => b === 'detector:icmpFlood' && pongs < 300 };
    }),
  );

  results.push(
    await scene(c, 'oversized ping (1400 bytes)', big.ip4, 'dropped by detector:oversizedIcmp; small pings answered', async () => {
      const large = await pingCount(lab, lab.attacker.ns, srv, { count: 3, size: 1400, local: big.ip4, deadlineS: 4 });
      const small = await pingCount(lab, lab.attacker.ns, srv, { count: 2, local: big.ip4, deadlineS: 3 });
      return { sent: '3 large + 2 normal pings', observed: `${large}/3 large answered, ${small}/2 normal answered`, ok: (b, by) => large === 0 && small === 2 && by.includes('detector:oversizedIcmp') && b === null };
    }),
  );

  results.push(
    await scene(c, 'port scan (40 ports)', scan.ip4, 'banned by detector:portScan', async () => {
      await lab.status(lab.attacker.ns, 'hping3', ['-q', '-S', '-p', '++1000', '-i', 'u20000', '-c', '40', '-a', scan.ip4, srv], { timeoutMs: 15_000 });
      const by = await waitBan(c.agent, scan.ip4);
      return { sent: '40 SYNs to ports 1000-1039', observed: by ? `banned (${by})` : 'not banned', ok: (b) => b === 'detector:portScan' };
    }),
  );

  results.push(
    await scene(c, 'blocked payload on port 80', web.ip4, 'dropped by payload:demo-path-traversal (whole and split)', async () => {
      const fine = await probe(lab, lab.attacker.ns, srv, 80, { local: web.ip4, chunks: ['GET /index.html HTTP/1.0\r\n\r\n'] });
      const whole = await probe(lab, lab.attacker.ns, srv, 80, { local: web.ip4, chunks: ['GET /../../etc/passwd HTTP/1.0\r\n\r\n'] });
      const split = await probe(lab, lab.attacker.ns, srv, 80, { local: web.ip4, chunks: ['GET /../../et', 'c/passwd HTTP/1.0\r\n\r\n'] });
      const say = (p: { replies: number }) => (p.replies > 0 ? 'answered' : 'blocked');
      return {
        sent: '3 HTTP requests (1 clean, 1 with the pattern, 1 with it split over 2 segments)',
        // The split request's first segment is harmless and answered; the second completes the pattern.
        observed: `clean ${say(fine)}, pattern ${say(whole)}, split pattern: ${split.replies === 1 ? 'first segment answered, second blocked' : `${split.replies} answers`}`,
        ok: (_b, by) => fine.replies === 1 && whole.replies === 0 && split.replies === 1 && by.includes('payload:demo-path-traversal'),
      };
    }),
  );
  return results;
}

export function formatTable(rows: SceneResult[]): string {
  const cols: Array<[string, (r: SceneResult) => string]> = [
    ['scene', (r) => r.scene],
    ['source', (r) => r.source],
    ['sent', (r) => r.sent],
    ['observed', (r) => r.observed],
    ['decided by (packets)', (r) => r.decidedBy],
    ['expected', (r) => r.expected],
    ['', (r) => (r.ok ? 'OK' : 'UNEXPECTED')],
  ];
  const cells = [cols.map(([h]) => h), ...rows.map((r) => cols.map(([, f]) => f(r)))];
  const widths = cols.map((_, i) => Math.min(60, Math.max(...cells.map((row) => row[i]!.length))));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.slice(1).map(line)].join('\n');
}

/** Builds the lab, runs the agent and the scenes, always tears down; returns the results. */
export async function runDemo(log: (line: string) => void): Promise<SceneResult[]> {
  const lab = await makeLab();
  let agent: AgentProcess | undefined;
  let service: ReturnType<typeof startService> | undefined;
  try {
    log(`lab: server ${lab.server}, attacker ${lab.attacker.ns} (${lab.attacker.ip4}), client ${lab.client.ns} (${lab.client.ip4})`);
    service = startService(lab, lab.server, [22, 80]);
    agent = await startAgent({ ns: lab.server, policy: DEMO_POLICY });
    log(`agent running in ${lab.server} on the default policy + demo payload rule`);
    return await runScenes({ lab, agent });
  } finally {
    service?.kill();
    const code = await agent?.stop();
    if (agent && code !== 0) log(`agent exited with ${code}: ${agent.stderr.slice(-3).join(' | ')}`);
    await lab.destroy();
  }
}
