// The agent's life: signals, restarts, reloads, kills, and what it leaves in the kernel.
import t from 'tap';
import { startAgent } from '../../agent/src/demo/agent-process.js';
import { probe } from '../../agent/src/demo/probes.js';
import { startService } from '../../agent/src/demo/probes.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentLab, kernelSnapshot, SERVICE_PORTS, testPolicy } from '../lib/agent-lab.js';
import { labFor } from '../lib/netns.js';

t.test('SIGTERM removes everything the agent added, and only that', async (t) => {
  const lab = await labFor(t);
  // A foreign rule and set, as NixOS' firewall or ufw would have.
  await lab.exec(lab.server, 'iptables', ['-N', 'nixos-fw']);
  await lab.exec(lab.server, 'iptables', ['-A', 'nixos-fw', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT']);
  await lab.exec(lab.server, 'iptables', ['-A', 'INPUT', '-j', 'nixos-fw']);
  await lab.exec(lab.server, 'ip6tables', ['-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT']);
  await lab.exec(lab.server, 'ipset', ['create', 'foreign', 'hash:ip']);
  const before = await kernelSnapshot(lab);
  const agent = await startAgent({ ns: lab.server, policy: testPolicy({ denyNetworks: ['203.0.113.0/24'] }) });
  t.not(await kernelSnapshot(lab), before, 'the agent changed the tables');
  t.equal(await agent.stop(), 0, 'exit 0 on SIGTERM');
  t.equal(await kernelSnapshot(lab), before, 'tables and sets exactly as before');
  t.ok(agent.events.some((e) => e.event === 'stop'), 'stop event logged');
});

t.test('fail-open: SIGKILL leaves what the policy accepts flowing, never what it refuses; the next start repairs the rules', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy({ queue: { failMode: 'open' } }));
  agent.child.kill('SIGKILL');
  await agent.exited;
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).replies, 1, 'new connection accepted with the agent dead');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 9090)).connected, false, 'a port the policy closes stays closed: the kernel decides that');
  const again = await startAgent({ ns: lab.server, policy: testPolicy({ queue: { failMode: 'open' } }) });
  t.teardown(() => again.stop());
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 9090)).connected, false, 'and after the restart');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).replies, 1, 'judging again after restart');
  const rules = await lab.exec(lab.server, 'iptables', ['-t', 'mangle', '-S', 'INPUT']);
  t.equal(rules.stdout.split('\n').filter((l) => l.includes('VPSFW-INPUT')).length, 1, 'one jump, not two');
});

t.test('fail-closed: SIGKILL stops new connections', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy({ queue: { failMode: 'closed' } }));
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).replies, 1, 'allowed while the agent runs');
  agent.child.kill('SIGKILL');
  await agent.exited;
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).connected, false, 'refused with the agent dead');
});

t.test('bans: manual ban and unban, v4 and v6; a restart restores them; the allowlist is refused', async (t) => {
  const lab = await labFor(t);
  const service = startService(lab, lab.server, SERVICE_PORTS);
  t.teardown(() => service.kill());
  const stateDir = mkdtempSync(join(tmpdir(), 'vpsfw-state-'));
  const policy = testPolicy({ bans: { allowlist: ['127.0.0.0/8', '::1/128', `${lab.client.ip4}/32`] } });
  const first = await startAgent({ ns: lab.server, policy, stateDir });
  t.equal((await first.cli(['ban', lab.attacker.ip4, '--for', '1h', '--reason', 'test'])).code, 0);
  t.equal((await first.cli(['ban', lab.attacker.ip6])).code, 0);
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080)).connected, false, 'v4 banned source cannot connect');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server6, 8080)).connected, false, 'v6 banned source cannot connect');
  const refused = await first.cli(['ban', lab.client.ip4]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /allowlist/, 'allowlisted address refused with a reason');
  t.equal(await first.stop(), 0);
  const second = await startAgent({ ns: lab.server, policy, stateDir });
  t.teardown(() => second.stop());
  t.match(second.events.find((e) => e.event === 'start'), { bansRestored: 2 });
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080)).connected, false, 'still banned after restart');
  t.match((await second.cli(['bans'])).stdout, lab.attacker.ip6);
  t.equal((await second.cli(['unban', lab.attacker.ip4])).code, 0);
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080)).replies, 1, 'unbanned source connects again');
  t.ok(second.events.some((e) => e.event === 'unban' && e.address === lab.attacker.ip4), 'unban logged');
});

t.test('a ban expires on time', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy());
  // Long enough that a loaded machine still probes within it; waited out from the command's return.
  t.equal((await agent.cli(['ban', lab.attacker.ip4, '--for', '5s'])).code, 0);
  const banned = Date.now();
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080)).connected, false, 'banned');
  await new Promise((r) => setTimeout(r, banned + 6000 - Date.now()));
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080)).replies, 1, 'free again after its time');
  t.notMatch((await agent.cli(['bans'])).stdout, lab.attacker.ip4, 'gone from the list');
});

t.test('reload: a bad policy is refused and the old one keeps running; a good one applies and keeps bans', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy());
  await agent.cli(['ban', lab.attacker.ip4]);
  agent.writePolicy({ version: 1, rules: [{ name: 'x', action: 'accept', protocol: 'tcp', ports: [0] }] });
  const bad = await agent.cli(['reload']);
  t.equal(bad.code, 1, 'reload refused');
  t.match(bad.stderr, /rules\.0\.ports\.0/, 'the error names the field');
  t.ok(agent.events.some((e) => e.event === 'reload-rejected'), 'logged');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).replies, 1, 'old policy still in force (8080 open)');
  agent.writePolicy(testPolicy({ rules: [{ name: 'only-9090', action: 'accept', protocol: 'tcp', ports: [9090] }] }));
  agent.child.kill('SIGHUP');
  await agent.waitFor((e) => e.event === 'reload', 10_000, 'the reload event');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 9090)).replies, 1, 'new policy: 9090 open');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).connected, false, 'new policy: 8080 closed');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 9090)).connected, false, 'the ban survived the reload');
});

// The non-root user runs a client that needs no file of the checkout (which may live under /root,
// where `nobody` reads nothing): the kernel's refusal is what is tested here; the CLI's words for
// it are tested in tests/unit/control/control.test.ts.
const CONNECT = `require('node:net').createConnection(process.argv[1]).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(1); });`;

t.test('the control socket refuses a non-root user', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy());
  // Without tap's NODE_OPTIONS, whose loaders are files of the checkout too.
  const r = await lab.status(lab.server, 'setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'env', '-u', 'NODE_OPTIONS', process.execPath, '-e', CONNECT, agent.controlPath]);
  t.equal(r.stdout.trim(), 'EACCES', 'nobody is refused by the socket\'s permissions');
  t.equal((await agent.cli(['status'])).code, 0, 'root gets in');
});

t.test('client commands say clearly when the daemon is not running', async (t) => {
  const lab = await labFor(t);
  const r = await lab.status(lab.server, process.execPath, ['bin/vpsfw.js', 'status', '--control', '/nonexistent/control.sock']);
  t.equal(r.code, 3, 'exit 3: not running');
  t.match(r.stderr, /not running/);
});
