// Two vpsfw servers share one real LAPI: a SYN flood banned on the first is reported as an alert
// with its decision and enforced on the second; `cscli alerts list` shows it with its scenario;
// the bans that came from CrowdSec are not reported back. A bouncer key the LAPI does not know is
// a clear error, and the agent keeps banning with its own detectors. The LAPI stopped and then
// cut off: bans stay, the agent says so once, reconnects and picks up what changed meanwhile.
import t from 'tap';
import { probe } from '../../agent/src/demo/probes.js';
import type { AgentProcess } from '../../agent/src/demo/agent-process.js';
import { testPolicy } from '../lib/agent-lab.js';
import { waitFor } from '../lib/wait.js';
import { crowdsecAgentLab, lapiFor, type Lapi } from '../lib/crowdsec.js';

const WAIT_MS = 30_000;
const FAST = { pollInterval: '1s', backoffMax: '2s', timeout: '3s' };

type Ban = { address: string; origin?: string; scenario?: string; by: string };
const bans = async (agent: AgentProcess) => JSON.parse((await agent.cli(['bans', '--json'])).stdout) as Ban[];

const synFlood = (lab: { status: (ns: string, cmd: string, args: string[], o: { timeoutMs: number }) => Promise<unknown>; attacker: { ns: string; server4: string } }) =>
  lab.status(lab.attacker.ns, 'hping3', ['-q', '-S', '-p', '8080', '-i', 'u500', '-c', '2000', lab.attacker.server4], { timeoutMs: 20_000 });

async function member(t: Parameters<typeof lapiFor>[0], lapi: Lapi, name: string) {
  const key = lapi.secretFile(`${name}.key`, await lapi.addBouncer(name));
  const machine = await lapi.addMachine(name);
  const password = lapi.secretFile(`${name}.password`, machine.password);
  return crowdsecAgentLab(t, lapi, () => testPolicy({ crowdsec: { url: lapi.url, bouncerKeyFile: key, machine: { login: name, passwordFile: password }, ...FAST } }));
}

t.test('two servers, one LAPI: a SYN flood banned on the first is enforced on the second', async (t) => {
  const lapi = await lapiFor(t);
  const one = await member(t, lapi, 'web1');
  const two = await member(t, lapi, 'web2');
  for (const m of [one, two]) await m.agent.waitFor((e) => e.event === 'crowdsec-sync', WAIT_MS, 'the start-up pull');
  // Both labs give their attacker the same address: the first one's attack is the second one's warning.
  const attacker = one.lab.attacker.ip4;
  t.equal(two.lab.attacker.ip4, attacker);
  t.ok((await probe(two.lab, two.lab.attacker.ns, two.lab.attacker.server4, 8080)).connected, 'the attacker reaches the second server before');

  await synFlood(one.lab);
  t.match((await bans(one.agent)).find((b) => b.address === attacker), { by: 'detector:synFlood', origin: 'agent' }, 'banned on the first by its detector');

  const alerts = await waitFor('the alert in the LAPI', WAIT_MS, async () => {
    const list = JSON.parse(await lapi.cscli(['alerts', 'list', '-o', 'json'])) as Array<{ scenario: string; source: { ip: string; scope: string }; machine_id: string; decisions: Array<{ type: string; value: string; origin: string; duration: string }>; events_count: number; start_at: string; stop_at: string }> | null;
    return list?.find((a) => a.scenario === 'vpsfw/synFlood');
  });
  t.match(alerts, { scenario: 'vpsfw/synFlood', machine_id: 'web1', source: { ip: attacker, scope: 'Ip' }, decisions: [{ type: 'ban', value: attacker, origin: 'crowdsec', scenario: 'vpsfw/synFlood' }] }, '`cscli alerts list` shows it, with its scenario, source and decision');
  t.ok(alerts.events_count >= 1 && alerts.start_at && alerts.stop_at, 'with the count and the time window');

  const onTwo = await waitFor('the ban on the second server', WAIT_MS, async () => (await bans(two.agent)).find((b) => b.address === attacker));
  t.match(onTwo, { origin: 'crowdsec', scenario: 'vpsfw/synFlood' }, 'the second server holds it as a CrowdSec ban, with the scenario');
  t.notOk((await probe(two.lab, two.lab.attacker.ns, two.lab.attacker.server4, 8080)).connected, 'and drops the attacker, which never attacked it');
  t.ok((await probe(two.lab, two.lab.client.ns, two.lab.client.server4, 8080)).connected, 'its client still connects');

  // No echo: the second agent does not report the ban it got from CrowdSec, nor the first its own back.
  await new Promise((r) => setTimeout(r, 3000));
  const all = JSON.parse(await lapi.cscli(['alerts', 'list', '-o', 'json'])) as Array<{ scenario: string; machine_id: string }>;
  t.equal(all.filter((a) => a.scenario === 'vpsfw/synFlood').length, 1, 'one alert in all: nothing echoed back');
  const status = async (a: AgentProcess) => JSON.parse((await a.cli(['status', '--json'])).stdout).crowdsec;
  t.match(await status(one.agent), { machine: { state: 'ok', sent: 1, queued: 0 } }, 'the first reports one alert sent');
  t.match(await status(two.agent), { machine: { sent: 0 }, bouncer: { state: 'ok', decisions: { banned: 1 } } }, 'the second sent none: its ban came from CrowdSec');
});

t.test('a bouncer key the LAPI does not know: a clear error, and the detectors still ban', async (t) => {
  const lapi = await lapiFor(t);
  const key = lapi.secretFile('wrong.key', 'not-a-key-the-lapi-gave');
  const { lab, agent } = await crowdsecAgentLab(t, lapi, () => testPolicy({ crowdsec: { url: lapi.url, bouncerKeyFile: key, ...FAST } }));
  const err = await agent.waitFor((e) => e.event === 'crowdsec-auth-failed', WAIT_MS, 'the refusal');
  t.match(err, { level: 'error', role: 'bouncer', keyFile: key, status: 403 }, 'an error event naming the key file and the status');
  t.match(String(err.msg), new RegExp(`refused the bouncer key in ${key}.*403.*cscli bouncers add`), 'whose message says what to do');
  await new Promise((r) => setTimeout(r, 4000));
  t.equal(agent.events.filter((e) => e.event === 'crowdsec-auth-failed').length, 1, 'logged once, not once per try');
  await synFlood(lab);
  t.match((await bans(agent)).find((b) => b.address === lab.attacker.ip4), { by: 'detector:synFlood' }, 'the SYN flood is banned by the agent itself');
  t.notOk((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080)).connected, 'and dropped');
  t.match(JSON.parse((await agent.cli(['status', '--json'])).stdout).crowdsec, { bouncer: { state: 'unauthorized' } }, 'status says the bouncer is refused');
  t.match((await agent.cli(['status'])).stdout, /^CrowdSec: decisions unauthorized \(0 banned.*; bans not reported$/m, 'in words too');
});

t.test('the LAPI stopped, then cut off: bans stay, one line per outage, changes made meanwhile are picked up', async (t) => {
  const lapi = await lapiFor(t);
  const key = lapi.secretFile('b.key', await lapi.addBouncer('web1'));
  const { lab, agent } = await crowdsecAgentLab(t, lapi, () => testPolicy({ crowdsec: { url: lapi.url, bouncerKeyFile: key, ...FAST } }));
  await agent.waitFor((e) => e.event === 'crowdsec-sync', WAIT_MS, 'the start-up pull');
  const kept = lab.attacker.ip4;
  const lifted = lab.denied4;
  const added = lab.attacker.ip6;
  await lapi.cscli(['decisions', 'add', '--ip', kept, '--duration', '1h']);
  await lapi.cscli(['decisions', 'add', '--ip', lifted, '--duration', '1h']);
  await waitFor('both enforced', WAIT_MS, async () => (await bans(agent)).filter((b) => b.origin === 'crowdsec').length === 2);

  // The LAPI stopped: refused connections, for many poll intervals.
  await lapi.stop();
  await agent.waitFor((e) => e.event === 'crowdsec-unreachable', WAIT_MS, 'the outage line');
  await new Promise((r) => setTimeout(r, 8000));
  t.equal(agent.events.filter((e) => e.event === 'crowdsec-unreachable').length, 1, 'one line for the outage, not one per try');
  t.equal((await bans(agent)).filter((b) => b.origin === 'crowdsec').length, 2, 'the bans stay');
  t.notOk((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080, { local: kept })).connected, 'and are enforced');

  // Back, but cut off from this server (no answer at all): what changes now is changed "meanwhile".
  await lapi.cut(lab.server);
  await lapi.start();
  await lapi.cscli(['decisions', 'delete', '--ip', lifted]);
  await lapi.cscli(['decisions', 'add', '--ip', added, '--duration', '1h']);
  await new Promise((r) => setTimeout(r, 5000));
  t.ok((await bans(agent)).find((b) => b.address === lifted), 'nothing changes while the agent cannot reach it');
  t.equal(agent.events.filter((e) => e.event === 'crowdsec-reachable').length, 0, 'and it is not back');

  await lapi.reconnect(lab.server);
  const back = await agent.waitFor((e) => e.event === 'crowdsec-reachable', WAIT_MS, 'the line saying it is back');
  t.match(back, { role: 'bouncer', level: 'info' }, 'one line when it is back');
  const list = await waitFor('the changes picked up', WAIT_MS, async () => {
    const l = await bans(agent);
    return l.find((b) => b.address === added) && !l.find((b) => b.address === lifted) && l;
  });
  t.ok(list.find((b) => b.address === kept), 'the decision untouched stays');
  t.equal(agent.events.filter((e) => e.event === 'crowdsec-unreachable').length, 1, 'still one outage line for the whole outage');
  t.ok((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080, { local: lifted })).connected, 'the deleted decision is lifted');
  t.notOk((await probe(lab, lab.attacker.ns, lab.attacker.server6, 8080, { local: added })).connected, 'the new one enforced');
});
