// vpsfw as a CrowdSec bouncer, against a real LAPI in the lab: `cscli decisions add --ip` and
// `--range`, IPv4 and IPv6, are enforced (the source's packets are dropped, its connections fail)
// within a poll interval and lifted by `cscli decisions delete`; other decision types are not.
import t from 'tap';
import { probe } from '../../agent/src/demo/probes.js';
import type { AgentProcess } from '../../agent/src/demo/agent-process.js';
import { testPolicy } from '../lib/agent-lab.js';
import { waitFor } from '../lib/wait.js';
import { crowdsecAgentLab, lapiFor, type Lapi } from '../lib/crowdsec.js';
import type { Lab } from '../lib/netns.js';

const POLL = '1s';
/** Bounded waits, generous for a loaded machine: many poll intervals. */
const WAIT_MS = 30_000;

type Ban = { address: string; origin?: string; scenario?: string; by: string };
const bans = async (agent: AgentProcess) => JSON.parse((await agent.cli(['bans', '--json'])).stdout) as Ban[];

async function bouncerLab(t: Parameters<typeof lapiFor>[0], lapi: Lapi, extra: object = {}) {
  const key = lapi.secretFile('bouncer.key', await lapi.addBouncer(`vpsfw-${Math.random().toString(36).slice(2, 8)}`));
  const { lab, agent } = await crowdsecAgentLab(t, lapi, () => testPolicy({ crowdsec: { url: lapi.url, bouncerKeyFile: key, pollInterval: POLL, backoffMax: '2s', timeout: '5s' }, ...extra }));
  await agent.waitFor((e) => e.event === 'crowdsec-sync', WAIT_MS, 'the start-up pull');
  return { lab, agent };
}

/** Whether `local` (an address of the attacker) can open a connection to the server's web port. */
const connects = async (lab: Lab, local: string) => (await probe(lab, lab.attacker.ns, local.includes(':') ? lab.attacker.server6 : lab.attacker.server4, 8080, { local })).connected;

t.test('Ip and Range decisions, IPv4 and IPv6: enforced, then lifted by cscli decisions delete', async (t) => {
  const lapi = await lapiFor(t);
  const { lab, agent } = await bouncerLab(t, lapi);
  const v4 = lab.attacker.ip4;
  const v6 = lab.attacker.ip6;
  for (const local of [v4, v6, lab.denied4, lab.denied6]) t.ok(await connects(lab, local), `${local} connects before any decision`);

  await lapi.cscli(['decisions', 'add', '--ip', v4, '--duration', '1h', '--reason', 'crowdsecurity/ssh-bf']);
  await lapi.cscli(['decisions', 'add', '--ip', v6.toUpperCase(), '--duration', '2h']);
  await lapi.cscli(['decisions', 'add', '--range', '203.0.113.0/24', '--duration', '1h', '--reason', 'test/range']);
  await lapi.cscli(['decisions', 'add', '--range', '2001:db8:bad::/48', '--duration', '1h']);
  await lapi.cscli(['decisions', 'add', '--ip', '198.51.100.77', '--type', 'captcha']);

  const list = await waitFor('four CrowdSec bans', WAIT_MS, async () => {
    const l = (await bans(agent)).filter((b) => b.origin === 'crowdsec');
    return l.length >= 4 && l;
  });
  t.match(list.find((b) => b.address === v4), { origin: 'crowdsec', by: 'crowdsec', scenario: 'crowdsecurity/ssh-bf' }, 'the Ip decision, with its scenario');
  t.ok(list.find((b) => b.address === v6), 'the IPv6 Ip decision, as the packets name the address');
  t.match(list.find((b) => b.address === '203.0.113.0/24'), { scenario: 'test/range' }, 'the v4 range, as a range');
  t.ok(list.find((b) => b.address === '2001:db8:bad::/48'), 'the v6 range');
  t.notOk(list.find((b) => b.address === '198.51.100.77'), 'a captcha decision is not a ban');
  // Added last: it may come in the pull after the bans.
  t.ok(await agent.waitFor((e) => e.event === 'crowdsec-ignored' && /captcha/.test(String(e.what)), WAIT_MS, 'the captcha decision'), 'and is logged as ignored');
  const event = agent.events.find((e) => e.event === 'ban' && e.address === v4);
  t.match(event, { origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', duration: /^\d+s$|^1h$/ }, 'a ban event with its origin');
  const left = event?.duration === '1h' ? 3600 : parseInt(String(event?.duration), 10);
  t.ok(left > 3600 - WAIT_MS / 1000 && left <= 3600, `and what the decision had left when pulled, in whole seconds (${String(event?.duration)})`);
  t.match((await agent.cli(['bans'])).stdout, new RegExp(`^${v4.replace(/\./g, '\\.')} +(59m \\d+s|1h) +1 +crowdsec +crowdsec +crowdsecurity/ssh-bf$`, 'm'), '`vpsfw bans` shows the origin and the scenario');

  for (const local of [v4, v6, lab.denied4, lab.denied6]) t.notOk(await connects(lab, local), `${local} is dropped`);
  const sets = (await lab.exec(lab.server, 'ipset', ['list'])).stdout;
  t.match(sets, /Name: vpsfw-bannet4[\s\S]*203\.0\.113\.0\/24 timeout \d+/, 'the v4 range is one entry of the network ban set, with a timeout');
  t.match(sets, /Name: vpsfw-bannet6[\s\S]*2001:db8:bad::\/48 timeout \d+/, 'the v6 range too');
  t.ok(await connects(lab, (await lab.attackerAlias(1)).ip4), 'another address of the attacker still connects');

  await lapi.cscli(['decisions', 'delete', '--ip', v4]);
  await lapi.cscli(['decisions', 'delete', '--range', '2001:db8:bad::/48']);
  await waitFor('two CrowdSec bans lifted', WAIT_MS, async () => {
    const l = await bans(agent);
    return !l.find((b) => b.address === v4) && !l.find((b) => b.address === '2001:db8:bad::/48');
  });
  t.ok(await connects(lab, v4), `${v4} connects again`);
  t.ok(await connects(lab, lab.denied6), `${lab.denied6} connects again`);
  t.notOk(await connects(lab, v6), 'the decisions not deleted stay');
  t.notOk(await connects(lab, lab.denied4), 'the v4 range stays');
  t.ok(agent.events.find((e) => e.event === 'unban' && e.address === v4 && e.origin === 'crowdsec'), 'an unban event');
  // What the metrics and the dashboard read: CrowdSec's bans made and in force, its decisions counted.
  const s = JSON.parse((await agent.cli(['status', '--json'])).stdout) as { bans: { made: Array<{ by: string; origin: string; count: number }>; activeByOrigin: Record<string, number> }; crowdsec: { bouncer: { state: string; decisions: Record<string, number> } } };
  t.same(s.bans.made.find((m) => m.origin === 'crowdsec'), { by: 'crowdsec', origin: 'crowdsec', count: 4 }, 'four bans made for CrowdSec, under its name');
  t.equal(s.bans.activeByOrigin.crowdsec, 2, 'two in force');
  t.match(s.crowdsec.bouncer, { state: 'ok', decisions: { banned: 4, lifted: 2 } }, 'the bouncer: four decisions banned, two lifted');
  t.ok(s.crowdsec.bouncer.decisions.ignored! >= 1, 'the captcha one ignored');
});

t.test('the allowlist wins over CrowdSec: an allowlisted address is not banned, nor a range holding it', async (t) => {
  const lapi = await lapiFor(t);
  const { lab, agent } = await bouncerLab(t, lapi, { bans: { allowlist: ['127.0.0.0/8', '::1/128', '192.0.2.2/32'] } });
  await lapi.cscli(['decisions', 'add', '--ip', lab.attacker.ip4]);
  await lapi.cscli(['decisions', 'add', '--range', '192.0.2.0/28']);
  await lapi.cscli(['decisions', 'add', '--ip', lab.denied4]);
  await waitFor('the other decision enforced', WAIT_MS, async () => (await bans(agent)).find((b) => b.address === lab.denied4));
  const list = await bans(agent);
  t.notOk(list.find((b) => b.address === lab.attacker.ip4), 'the allowlisted address is not banned');
  t.notOk(list.find((b) => b.address === '192.0.2.0/28'), 'nor the range that holds it');
  t.ok(await connects(lab, lab.attacker.ip4), 'and it still connects');
  t.match(agent.events.find((e) => e.event === 'ban-refused' && e.address === lab.attacker.ip4), { why: 'allowlisted', origin: 'crowdsec' }, 'the refusal is logged');
  t.notMatch((await lab.exec(lab.server, 'ipset', ['list', 'vpsfw-ban4'])).stdout, lab.attacker.ip4, 'nothing in the kernel set');
});
