// Audit mode, for a safe first day: everything is judged as usual and nothing is enforced. A
// closed port answers and is logged as would-drop; a SYN flood goes through and its source is
// logged as would-ban, once, with no ban in the kernel; `vpsfw status` says AUDIT. A reload to
// enforce bans the source on its next packets and closes the port again. `vpsfw run --audit`
// overrides the policy's mode.
import t from 'tap';
import { probe } from '../../agent/src/demo/probes.js';
import type { PolicyInput } from '../../agent/src/policy/schema.js';
import { agentLab, agentStatus, testPolicy } from '../lib/agent-lab.js';
import type { Lab } from '../lib/netns.js';

const policy = (mode: 'audit' | 'enforce'): PolicyInput => testPolicy({ mode, detectors: { synFlood: { perSource: { rate: 5, burst: 10 }, ban: '10m' } } });

const flood = (lab: Lab, from: string) =>
  lab.status(lab.attacker.ns, 'hping3', ['-q', '-S', '-p', '8080', '-i', 'u2000', '-c', '300', '-a', from, lab.attacker.server4], { timeoutMs: 15_000 });

t.test('audit: a closed port answers, a flood goes through, both logged as what would have happened', async (t) => {
  const { lab, agent } = await agentLab(t, policy('audit'));
  const s = await agentStatus(agent);
  t.equal(s.mode, 'audit');
  t.match((await agent.cli(['status'])).stdout, /^Mode: AUDIT/m, 'status says it loudly');
  t.match(agent.events.find((e) => e.event === 'start'), { mode: 'audit', msg: /AUDIT/ });

  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 9090)).replies, 1, 'the closed port answers: nothing enforced');
  const would = await agent.waitFor((e) => e.event === 'would-drop' && e.dport === 9090, 10_000, 'the would-drop');
  t.match(would, { by: 'default:inbound', src: lab.client.ip4, direction: 'inbound', proto: 'tcp' }, 'with the same fields as a drop');

  const { ip4: flooder } = await lab.attackerAlias(0);
  await flood(lab, flooder);
  const ban = await agent.waitFor((e) => e.event === 'would-ban' && e.address === flooder, 10_000, 'the would-ban');
  t.match(ban, { by: 'detector:synFlood', origin: 'agent', duration: '10m', offense: 1 }, 'with the fields of a ban');
  t.equal(agent.events.filter((e) => e.event === 'would-ban' && e.address === flooder).length, 1, 'said once, not once per packet');
  t.notOk(agent.events.some((e) => e.event === 'ban'), 'no ban made');
  t.notMatch((await lab.exec(lab.server, 'ipset', ['list', 'vpsfw-ban4'])).stdout, flooder, 'none in the kernel');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080, { local: flooder })).replies, 1, 'the flooder still connects');

  // Back to enforcing: a reload. The flooder's next packets earn the ban; the closed port closes.
  agent.writePolicy(policy('enforce'));
  const r = await agent.cli(['reload']);
  t.equal(r.code, 0, r.stderr);
  t.equal((await agentStatus(agent)).mode, 'enforce');
  await flood(lab, flooder);
  await agent.waitFor((e) => e.event === 'ban' && e.address === flooder, 10_000, 'the ban once enforcing');
  t.match((await lab.exec(lab.server, 'ipset', ['list', 'vpsfw-ban4'])).stdout, flooder, 'in the kernel');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080, { local: flooder })).connected, false, 'the flooder is out');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 9090)).connected, false, 'the closed port is closed again');
});

t.test('vpsfw run --audit overrides a policy that enforces', async (t) => {
  const { lab, agent } = await agentLab(t, policy('enforce'), ['--audit']);
  t.equal((await agentStatus(agent)).mode, 'audit');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 9090)).replies, 1);
  t.match((await lab.exec(lab.server, 'iptables', ['-t', 'raw', '-S', 'VPSFW-RAW'])).stdout, /^(?!.*DROP)/s, 'raw drops nothing');
});
