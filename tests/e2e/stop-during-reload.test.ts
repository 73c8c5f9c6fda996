// A stop that comes during a reload ends with everything or nothing, whenever it comes; with
// --keep-rules everything stays for the rules unit; `vpsfw reload` waits and reports a refusal.
import t from 'tap';
import { startAgent, VPSFW_BIN } from '../../agent/src/demo/agent-process.js';
import { agentLab, agentStatus, kernelSnapshot, testPolicy } from '../lib/agent-lab.js';
import { labFor } from '../lib/netns.js';

// Twenty agents started and stopped, or a hundred reloads: more than the suite's five minutes on a loaded machine.
t.setTimeout(900_000);

t.test('a stop during a reload ends with everything or nothing, 20 times', async (t) => {
  const lab = await labFor(t);
  const before = await kernelSnapshot(lab);
  let nothing = 0;
  for (let i = 0; i < 20; i++) {
    const agent = await startAgent({ ns: lab.server, policy: testPolicy() });
    agent.writePolicy(testPolicy({ denyNetworks: [`203.0.113.${i}/32`] }));
    const reload = agent.cli(['reload']);
    // Let the reload get under way (its child process is loading the policy), then stop.
    await new Promise((r) => setTimeout(r, 50 + (i % 5) * 60));
    t.equal(await agent.stop(), 0, `run ${i}: exit 0`);
    await reload;
    if ((await kernelSnapshot(lab)) === before) nothing++;
  }
  t.equal(nothing, 20, 'without --keep-rules the agent removes everything, whenever the stop comes');

  const kept = await startAgent({ ns: lab.server, policy: testPolicy(), extraArgs: ['--keep-rules'] });
  kept.writePolicy(testPolicy({ denyNetworks: ['203.0.113.99/32'] }));
  const reload = kept.cli(['reload']);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(await kept.stop(), 0);
  await reload;
  const after = await kernelSnapshot(lab);
  t.match(after, /VPSFW-INPUT/, 'with --keep-rules everything stays in force, for the rules unit to remove');
  t.match((await lab.exec(lab.server, 'iptables', ['-t', 'mangle', '-S', 'INPUT'])).stdout, /-j VPSFW-INPUT/, 'jump and chain together');
  await lab.exec(lab.server, process.execPath, [VPSFW_BIN, 'cleanup']);
  t.equal(await kernelSnapshot(lab), before, 'and `vpsfw cleanup` removes it');
});

t.test('vpsfw reload waits for the outcome: exit 0 and the hash, or exit 1 naming the field', async (t) => {
  const { agent } = await agentLab(t, testPolicy());
  agent.writePolicy(testPolicy({ denyNetworks: ['203.0.113.0/24'] }));
  const ok = await agent.cli(['reload']);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /reloaded .* \(policy [0-9a-f]{16}\)/);
  agent.writePolicy({ version: 1, rules: [{ name: 'bad', action: 'accept', protocol: 'tcp', localPorts: [0] }] });
  const bad = await agent.cli(['reload']);
  t.equal(bad.code, 1, 'a rejected policy fails the command');
  t.match(bad.stderr, /rules\.0\.localPorts\.0: .*\(got 0\)/, 'with the field and the value');
  agent.writePolicy(testPolicy({ queue: { num: 5 } }));
  const restart = await agent.cli(['reload']);
  t.equal(restart.code, 1);
  t.match(restart.stderr, /queue\.num: cannot change while running: restart the service \(got 5\)/);
  t.match((await agentStatus(agent)).reloads, { accepted: 1, rejected: 2 });
});

