// The status snapshot's counters as the running agent keeps them: reloads accepted and rejected
// (a new HTTP listener needs a restart: policy/restart.ts), bans made (by decider and origin) and
// lifted; the HTTP listener's address, and its refusals: `--http` beyond loopback without
// http.allowFrom, `vpsfw dashboard` without a listener.
import t from 'tap';
import type { AgentStatus } from '../../agent/src/daemon/status.js';
import { startAgent } from '../../agent/src/demo/agent-process.js';
import { agentLab, testPolicy } from '../lib/agent-lab.js';

t.test('reloads and bans counted; the listener kept through a refused reload', async (t) => {
  const policy = testPolicy({ http: { listen: '127.0.0.1:9469' } });
  const { lab, agent } = await agentLab(t, policy);
  const status = async () => JSON.parse((await agent.cli(['status', '--json'])).stdout) as AgentStatus;
  t.match(await status(), { reloads: { accepted: 0, rejected: 0 }, http: { listen: '127.0.0.1:9469', url: 'http://127.0.0.1:9469/', tokenFile: `${agent.stateDir}/http-token` } });

  agent.writePolicy({ ...policy, rules: [...(policy.rules ?? []), { name: 'dns', action: 'accept', protocol: 'udp', ports: [53] }] });
  t.equal((await agent.cli(['reload'])).code, 0);
  agent.writePolicy({ ...policy, http: { listen: '127.0.0.1:9470' } });
  const refused = await agent.cli(['reload']);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /http\.listen: cannot change while running: restart the service \(got .*9470/);
  const s = await status();
  t.same(s.reloads, { accepted: 1, rejected: 1 });
  t.equal(s.http?.listen, '127.0.0.1:9469', 'the listener is the one it started with');

  await agent.cli(['ban', lab.attacker.ip4, '--for', '10m']);
  await agent.cli(['unban', lab.attacker.ip4]);
  const bans = (await status()).bans;
  t.match(bans, { active: 0, lifted: 1, recent: [{ address: lab.attacker.ip4, by: 'control', origin: 'control' }] });
  t.same(bans.made, [{ by: 'control', origin: 'control', count: 1 }]);
});

t.test('refusals: a listener beyond loopback the policy did not ask for; the dashboard with no listener', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy());
  const r = await agent.cli(['dashboard']);
  t.equal(r.code, 1);
  t.match(r.stderr, /vpsfw dashboard: the agent has no HTTP listener: start it with `vpsfw run --http 127\.0\.0\.1:9469`/);
  t.equal(JSON.parse((await agent.cli(['status', '--json'])).stdout).http, null);
  await agent.stop();
  await t.rejects(startAgent({ ns: lab.server, policy: testPolicy(), extraArgs: ['--http', `${lab.attacker.server4}:9469`] }), /--http 192\.0\.2\.1:9469: a listener beyond loopback needs http\.allowFrom/);
});
