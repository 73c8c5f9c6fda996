// A real Prometheus (Debian's package) scrapes the agent every second through a SYN flood, in the
// lab's server namespace on loopback, with the token as its bearer credential; its query API then
// gives the agent's own numbers for drops and bans, and the kernel's for what it dropped of the
// banned flooder and what the static rules decided; and every scrape of the run succeeded.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentStatus } from '../../agent/src/daemon/status.js';
import { agentLab, testPolicy } from '../lib/agent-lab.js';
import { nsGet } from '../lib/ns-http.js';
import { waitFor } from '../lib/wait.js';

const AGENT = '127.0.0.1:9469';
const PROMETHEUS = '127.0.0.1:19090';

t.test('Prometheus scraping during an attack answers with what the agent reports', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy(), ['--http', AGENT]);
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-prometheus-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: vpsfw
    authorization:
      credentials_file: ${join(agent.stateDir, 'http-token')}
    static_configs:
      - targets: ['${AGENT}']
`,
  );
  // Bounded: gone after five minutes whatever happens to this test.
  const prometheus = lab.spawn(lab.server, 'timeout', ['300', 'prometheus', `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${PROMETHEUS}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  prometheus.stderr!.on('data', (d) => stderr.push(String(d)));
  t.teardown(() => void prometheus.kill());
  const query = async (q: string) => {
    const r = await nsGet(lab, lab.server, `http://${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(q)}`);
    const j = JSON.parse(r.body) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
    if (j.status !== 'success') throw new Error(r.body);
    return j.data.result;
  };
  const scalar = async (q: string) => {
    const [first] = await query(q);
    return first ? Number(first.value[1]) : undefined;
  };
  await waitFor('Prometheus ready', 60_000, async () => (await nsGet(lab, lab.server, `http://${PROMETHEUS}/-/ready`)).status === 200).catch((err) => {
    throw new Error(`${(err as Error).message}; prometheus stderr: ${stderr.join('').slice(-2000)}`);
  });
  await waitFor('a first scrape of the agent', 30_000, async () => (await scalar('up{job="vpsfw"}')) === 1);

  // 2000 SYNs, 0.5 ms apart, as tests/e2e/agent-detectors.test.ts: about a second of flood.
  await lab.status(lab.attacker.ns, 'hping3', ['-q', '-S', '-p', '8080', '-i', 'u500', '-c', '2000', lab.attacker.server4], { timeoutMs: 20_000 });
  await agent.waitFor((e) => e.event === 'ban' && e.address === lab.attacker.ip4, 15_000, 'the ban');

  const status = async () => JSON.parse((await agent.cli(['status', '--json'])).stdout) as AgentStatus;
  // The flooder is banned in the kernel: the agent's counts stop moving; Prometheus catches up.
  const seen = await waitFor(
    "Prometheus to hold the agent's numbers",
    30_000,
    async () => {
      const s = await status();
      const drops = await scalar('sum(vpsfw_verdicts_total{action="drop"})');
      const bans = await scalar('sum(vpsfw_bans_active)');
      const banned = await scalar('vpsfw_kernel_drops_total{reason="banned"}');
      return drops === s.verdicts.drop && bans === s.bans.active && banned === s.kernel.counters.banned ? { s, drops, bans, banned } : undefined;
    },
    1000,
  );
  t.ok(seen.drops > 0, `drops: ${seen.drops} in Prometheus, ${seen.s.verdicts.drop} reported by the agent`);
  t.equal(seen.bans, 1, 'one ban in force, as the agent reports');
  t.equal(await scalar('vpsfw_bans_active{family="ipv4"}'), seen.s.bans.activeByFamily.ipv4);
  t.equal(await scalar('vpsfw_bans_total{by="detector:synFlood"}'), 1, 'made by the SYN-flood detector');
  t.equal(await scalar('vpsfw_verdicts_total{action="drop",by="detector:synFlood"}'), seen.s.verdictsBy['detector:synFlood']?.drop);
  t.ok(seen.banned! > 0, `the flooder's packets after its ban, dropped by the kernel: ${seen.banned}, as the agent's kernel counters say`);
  const web = seen.s.kernel.counters.rules['rule:web'] ?? 0;
  t.ok(web > 0, `the flood's SYNs before the ban went through the web rule: ${web}`);
  t.equal(await scalar('vpsfw_kernel_rule_packets_total{by="rule:web"}'), web, 'what the web rule decided in the kernel');
  t.equal(await scalar(`count(vpsfw_policy_info{hash="${seen.s.policy.hash}"})`), 1, 'the policy hash as an info metric');
  t.equal(await scalar('min_over_time(up{job="vpsfw"}[5m])'), 1, 'no scrape failed, during the flood included');
  t.ok((await scalar('count_over_time(up{job="vpsfw"}[5m])'))! >= 3, 'and there were several');
  t.equal((await nsGet(lab, lab.server, `http://${AGENT}/metrics`)).status, 401, 'and without its token the agent answers 401');
});
