// `vpsfw demo`: the agent on its default policy (plus one demo payload rule and the web port it
// watches) in a server namespace, attacked with real packets from an attacker namespace while a
// client goes about its business. Each scene has its own source address, so the table can say
// who was banned for what. Every load is bounded in count and time.
import { formatTable as formatTextTable, wrap } from '../cli/table.js';
import { defaultPolicyDocument } from '../policy/defaults.js';
import type { PolicyInput } from '../policy/schema.js';
import { startAgent, type AgentProcess } from './agent-process.js';
import { makeLab, type Lab } from './lab.js';
import { pingCount, probe, readFrom, startChattyApp, startService } from './probes.js';

/** The application on port 2222 whose replies the mini-IPS watches (the outbound payload rule). */
const APP_PORT = 2222;

export const DEMO_POLICY: PolicyInput = {
  ...defaultPolicyDocument,
  rules: [
    ...(defaultPolicyDocument.rules ?? []),
    { name: 'http', action: 'accept', protocol: 'tcp', localPorts: [80] },
    { name: 'app', action: 'accept', protocol: 'tcp', localPorts: [APP_PORT] },
  ],
  payloadRules: [
    { name: 'demo-path-traversal', protocol: 'tcp', localPorts: [80], pattern: { text: '/etc/passwd' }, action: 'drop', ban: false },
    // The mini-IPS's own case: what this server's application sends its clients.
    { name: 'demo-leak', direction: 'outbound', protocol: 'tcp', localPorts: [APP_PORT], pattern: { text: 'SECRET-LEAK' }, action: 'drop' },
  ],
};

// The detector settings the notes quote, as the demo's policy has them.
const DETECTORS = DEMO_POLICY.detectors!;
const SYN_BURST = DETECTORS.synFlood?.perSource?.burst;
const ICMP_BURST = DETECTORS.icmpFlood?.perSource?.burst;
const SCAN_PORTS = DETECTORS.portScan?.ports;
const SCAN_WINDOW = DETECTORS.portScan?.window;

export interface SceneResult {
  scene: string;
  source: string;
  sent: string;
  observed: string;
  /** The agent's decisions during the scene, "rule:ssh ×1, ...", or "-". */
  decidedBy: string;
  /** Why those counts differ from what was sent, where they do. */
  note?: string | undefined;
  banned: boolean;
  expected: string;
  ok: boolean;
}

/** What a scene played: its texts, its check, and the note on its counts (from the counts themselves). */
interface Played {
  sent: string;
  observed: string;
  ok: (banBy: string | null, by: string) => boolean;
  note?: (count: (decider: string) => number) => string;
}

interface Ctx {
  lab: Lab;
  agent: AgentProcess;
}

type Counters = Record<string, number>;

/** The agent's decisions so far: the packets it judged, and the refused ones the kernel showed it. */
async function decidedBy(agent: AgentProcess): Promise<Counters> {
  const r = await agent.cli(['status', '--json']);
  if (r.code !== 0) throw new Error(`vpsfw status failed: ${r.stderr}`);
  const s = JSON.parse(r.stdout) as { decidedBy: Counters; observedBy: Counters };
  const all = { ...s.decidedBy };
  for (const [k, n] of Object.entries(s.observedBy)) all[k] = (all[k] ?? 0) + n;
  return all;
}

function delta(before: Counters, after: Counters): Counters {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
      .filter(([, d]) => d > 0)
      .sort((a, b) => b[1] - a[1]),
  );
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

async function scene(c: Ctx, name: string, source: string, expected: string, play: () => Promise<Played>): Promise<SceneResult> {
  const before = await decidedBy(c.agent);
  const r = await play();
  const banBy = await banned(c.agent, source);
  const d = delta(before, await decidedBy(c.agent));
  const by = Object.entries(d).map(([k, n]) => `${k} ×${n}`).join(', ');
  return { scene: name, source, sent: r.sent, observed: r.observed, decidedBy: by || '-', note: r.note?.((k) => d[k] ?? 0), banned: banBy !== null, expected, ok: r.ok(banBy, by) };
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
    await scene(c, 'normal client session', lab.client.ip4, 'allowed', async () => {
      const p = await probe(lab, lab.client.ns, lab.client.server4, 22, { chunks: ['hello', 'bye'] });
      const pongs = await pingCount(lab, lab.client.ns, lab.client.server4, { count: 3 });
      return {
        sent: 'ssh session, 3 pings',
        observed: `session ${p.replies === 2 ? 'answered' : 'failed'}, ${pongs}/3 pongs`,
        ok: (b) => p.replies === 2 && pongs === 3 && b === null,
        note: (n) => `rule:ssh ×${n('rule:ssh')} for a whole session: the agent judges a connection's first packet; the rest of it passes in the kernel as an established flow.`,
      };
    }),
  );

  results.push(
    await scene(c, 'SYN flood on port 80', flood.ip4, 'banned by detector:synFlood; client unaffected', async () => {
      await lab.status(lab.attacker.ns, 'hping3', ['-q', '-S', '-p', '80', '-i', 'u500', '-c', '2000', '-a', flood.ip4, srv], { timeoutMs: 15_000 });
      const by = await waitBan(c.agent, flood.ip4);
      const p = await probe(lab, lab.client.ns, lab.client.server4, 22);
      return {
        sent: '2000 SYNs in ~1 s',
        observed: `${by ? `banned (${by})` : 'not banned'}; client ${p.replies > 0 ? 'still served' : 'failed'}`,
        ok: (b) => b === 'detector:synFlood' && p.replies > 0,
        note: (n) =>
          `Of 2000 SYNs the agent saw ${n('rule:http') + n('detector:synFlood')}: ${n('rule:http')} accepted within the detector's allowance (burst ${SYN_BURST}), ` +
          `${n('detector:synFlood')} dropped by it until the ban was in the kernel; the kernel's ban set dropped the rest before the queue. ` +
          `flow:established ×${n('flow:established')}: the attacker's own RSTs answering the server's SYN-ACKs (port 80 is watched by the payload rule, so its flows are judged). ` +
          `rule:ssh ×${n('rule:ssh')}: the client's session.`,
      };
    }),
  );

  results.push(
    await scene(c, 'ICMP echo flood', icmp.ip4, 'banned by detector:icmpFlood', async () => {
      const pongs = await pingCount(lab, lab.attacker.ns, srv, { count: 300, flood: true, local: icmp.ip4, deadlineS: 5 });
      const by = await waitBan(c.agent, icmp.ip4);
      return {
        sent: '300 pings, flood mode',
        observed: `${pongs}/300 pongs, ${by ? `banned (${by})` : 'not banned'}`,
        ok: (b) => b === 'detector:icmpFlood' && pongs < 300,
        note: (n) =>
          `rule:ping ×${n('rule:ping')}: accepted within the detector's allowance (burst ${ICMP_BURST}); detector:icmpFlood ×${n('detector:icmpFlood')}: dropped, and the source banned; ` +
          `the kernel's ban set dropped the other pings before the queue.`,
      };
    }),
  );

  results.push(
    await scene(c, 'oversized ping (1400 B)', big.ip4, 'dropped by detector:oversizedIcmp; small pings answered', async () => {
      const large = await pingCount(lab, lab.attacker.ns, srv, { count: 3, size: 1400, local: big.ip4, deadlineS: 4 });
      const small = await pingCount(lab, lab.attacker.ns, srv, { count: 2, local: big.ip4, deadlineS: 3 });
      return {
        sent: '3 large + 2 normal pings',
        observed: `${large}/3 large, ${small}/2 normal answered`,
        ok: (b, by) => large === 0 && small === 2 && by.includes('detector:oversizedIcmp') && b === null,
        note: (n) =>
          `detector:oversizedIcmp ×${n('detector:oversizedIcmp')} for "3 large": ping, answered by no one, sends one request a second until its 4 s deadline, ` +
          `so more than 3 may leave it; each is dropped (no ban: oversizedIcmp.ban is false). rule:ping ×${n('rule:ping')}: the normal pings.`,
      };
    }),
  );

  results.push(
    await scene(c, 'port scan (40 ports)', scan.ip4, 'banned by detector:portScan', async () => {
      await lab.status(lab.attacker.ns, 'hping3', ['-q', '-S', '-p', '++1000', '-i', 'u20000', '-c', '40', '-a', scan.ip4, srv], { timeoutMs: 15_000 });
      const by = await waitBan(c.agent, scan.ip4);
      return {
        sent: '40 SYNs to ports 1000-1039',
        observed: by ? `banned (${by})` : 'not banned',
        ok: (b) => b === 'detector:portScan',
        note: (n) =>
          `default:inbound ×${n('default:inbound')}: SYNs to closed ports, refused in the kernel by the default rule and shown to the agent; the next port went past the detector's limit ` +
          `(${SCAN_PORTS} ports in ${SCAN_WINDOW}): detector:portScan ×${n('detector:portScan')} banned the source, and the kernel's ban set dropped the rest before the queue.`,
      };
    }),
  );

  results.push(
    await scene(c, 'payload on port 80', web.ip4, 'dropped by payload:demo-path-traversal (whole and split)', async () => {
      const fine = await probe(lab, lab.attacker.ns, srv, 80, { local: web.ip4, chunks: ['GET /index.html HTTP/1.0\r\n\r\n'] });
      const whole = await probe(lab, lab.attacker.ns, srv, 80, { local: web.ip4, chunks: ['GET /../../etc/passwd HTTP/1.0\r\n\r\n'] });
      const split = await probe(lab, lab.attacker.ns, srv, 80, { local: web.ip4, chunks: ['GET /../../et', 'c/passwd HTTP/1.0\r\n\r\n'] });
      // The probes gave up, but their kernel would send the dropped segments again for minutes,
      // into the next scene's counts: their sockets go now.
      await lab.status(lab.attacker.ns, 'ss', ['-K', 'dst', srv, 'dport', '=', ':80']);
      const say = (p: { replies: number }) => (p.replies > 0 ? 'answered' : 'blocked');
      return {
        sent: '3 HTTP requests: clean, pattern, pattern split in 2 segments',
        // The split request's first segment is harmless and answered; the second completes the pattern.
        observed: `clean ${say(fine)}, pattern ${say(whole)}, split: ${split.replies === 1 ? '1st segment answered, 2nd blocked' : `${split.replies} answers`}`,
        ok: (_b, by) => fine.replies === 1 && whole.replies === 0 && split.replies === 1 && by.includes('payload:demo-path-traversal'),
        note: (n) =>
          `rule:http ×${n('rule:http')}: each connection's first packet. flow:established ×${n('flow:established')}: the other packets of the flows, judged one by one ` +
          `because the payload rule watches port 80, and the resets that ended them. payload:demo-path-traversal ×${n('payload:demo-path-traversal')}: the 2 segments completing the pattern, ` +
          `and TCP sending each again after it was dropped, until the probe gave up.`,
      };
    }),
  );

  results.push(
    await scene(c, `app on port ${APP_PORT} leaks`, lab.client.ip4, 'leak dropped on the way out by payload:demo-leak', async () => {
      const app = startChattyApp(lab, lab.server, APP_PORT, ['hello benign\n', 'SECRET-LEAK token=42\n']);
      try {
        await app.ready;
        const got = await readFrom(lab, lab.client.ns, lab.client.server4, APP_PORT, 2000);
        const leaked = got.data.includes('SECRET-LEAK');
        return {
          sent: 'the app writes "hello benign", then "SECRET-LEAK token=42"',
          observed: `client got ${JSON.stringify(got.data.trim())}${leaked ? '' : '; leak blocked'}, connection ${got.closed ? 'closed' : 'open'}`,
          ok: (_b, by) => got.data === 'hello benign\n' && !got.closed && by.includes('payload:demo-leak'),
          note: (n) =>
            `payload:demo-leak ×${n('payload:demo-leak')}: the outbound segment with the pattern, then each retransmission of it (the rule drops silently, so the connection stays open). ` +
            `rule:app ×${n('rule:app')}: the client's SYN. flow:established ×${n('flow:established')}: the other segments of the flow, inspected on the way out because the rule watches what port ${APP_PORT} sends.`,
        };
      } finally {
        app.kill();
      }
    }),
  );
  return results;
}

/** The results at a glance (fits 100 columns), then each scene's details: decisions, expectation, why its counts are what they are. */
export function formatTable(rows: SceneResult[]): string {
  const WIDTH = 100;
  const table = formatTextTable(
    ['#', 'scene', 'source', 'sent', 'observed', 'result'],
    rows.map((r, i) => [String(i + 1), r.scene, r.source, r.sent, r.observed, r.ok ? 'OK' : 'UNEXPECTED']),
    { width: WIDTH },
  );
  const field = (label: string, text: string) => wrap(text, WIDTH - 15).map((l, i) => `${i === 0 ? `   ${label}`.padEnd(15) : ' '.repeat(15)}${l}`);
  const details = rows.flatMap((r, i) => [
    '',
    `${i + 1}. ${r.scene} (${r.source})`,
    ...field('decided by', r.decidedBy),
    ...field('expected', r.expected),
    ...(r.note ? field('counts', r.note) : []),
  ]);
  const legend = wrap('decided by: the packets the agent judged, and the refused ones the kernel showed it, per deciding rule or detector. A banned source\'s packets are dropped by the kernel and never reach the agent.', WIDTH);
  return [table, '', ...legend, ...details].join('\n');
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
