// SSH brute force against a real OpenSSH server in the lab, seen through its log: a guesser with
// wrong passwords (sshpass) is banned after maxRetry failures, over IPv4 and IPv6, and the kernel
// then drops its packets; a user who logs in after two typos is not banned; a rotation by rename
// and a copytruncate in the middle of an attack lose no count.
import t from 'tap';
import { copyFileSync, renameSync, truncateSync } from 'node:fs';
import { startAgent } from '../../agent/src/demo/agent-process.js';
import { probe, startService } from '../../agent/src/demo/probes.js';
import { SERVICE_PORTS, testPolicy } from '../lib/agent-lab.js';
import { labFor } from '../lib/netns.js';
import { SSH_PASSWORD, sshLogin, startSshd } from '../lib/sshd.js';

const PORT = 2222;

/** The lab, its answering service, sshd on PORT, and the agent following sshd's log. */
async function sshLab(t: Tap.Test, maxRetry: number) {
  const lab = await labFor(t);
  const service = startService(lab, lab.server, SERVICE_PORTS);
  t.teardown(() => service.kill());
  const sshd = await startSshd(t, lab, { port: PORT });
  const policy = testPolicy({
    rules: [...(testPolicy().rules ?? []), { name: 'ssh', action: 'accept', protocol: 'tcp', ports: [PORT] }],
    logSources: [{ name: 'sshd', kind: 'sshd', file: sshd.log, maxRetry, findTime: '10m', ban: '1h' }],
  });
  const agent = await startAgent({ ns: lab.server, policy });
  t.teardown(() => agent.stop());
  await agent.waitFor((e) => e.event === 'log-source' && e.state === 'opened', 10_000, 'the log source');
  return { lab, sshd, agent };
}

async function bans(agent: { cli(a: string[]): Promise<{ stdout: string }> }) {
  return JSON.parse((await agent.cli(['bans', '--json'])).stdout) as Array<{ address: string; by: string; reason: string }>;
}

t.test('a password guesser is banned after maxRetry failures (IPv4, IPv6); the kernel drops it; a user with two typos is not', async (t) => {
  const { lab, agent } = await sshLab(t, 3);

  const v6 = await lab.attackerAlias(1);
  for (const [family, host, local] of [['IPv4', lab.attacker.server4, lab.attacker.ip4], ['IPv6', lab.attacker.server6, v6.ip6]] as const) {
    t.equal((await probe(lab, lab.attacker.ns, host, 8080, { local })).replies, 1, `${family}: the guesser reaches the web port before`);
    for (let i = 1; i <= 2; i++) t.equal(await sshLogin(lab, lab.attacker.ns, host, PORT, `wrong-${i}`, { local }), 5, `${family}: wrong password ${i} refused`);
    t.notOk((await bans(agent)).some((b) => b.address === local), `${family}: not banned after 2 failures`);
    t.equal(await sshLogin(lab, lab.attacker.ns, host, PORT, 'wrong-3', { local }), 5);
    const ban = await agent.waitFor((e) => e.event === 'ban' && e.address === local, 15_000, `${family} ban`);
    t.match(ban, { by: 'log:sshd', origin: 'log', duration: '1h' });
    t.match((await bans(agent)).find((b) => b.address === local), { by: 'log:sshd' });
    t.equal((await probe(lab, lab.attacker.ns, host, 8080, { local })).connected, false, `${family}: the kernel drops the banned source's packets`);
    t.equal(await sshLogin(lab, lab.attacker.ns, host, PORT, SSH_PASSWORD, { local }), 255, `${family}: not even the right password gets through now`);
  }

  // Two typos, then the right password: forgiven, never banned.
  for (const pw of ['typo-1', 'typo-2']) t.equal(await sshLogin(lab, lab.client.ns, lab.client.server4, PORT, pw), 5);
  t.equal(await sshLogin(lab, lab.client.ns, lab.client.server4, PORT, SSH_PASSWORD), 0, 'the user logs in');
  t.equal(await sshLogin(lab, lab.client.ns, lab.client.server4, PORT, 'typo-3'), 5, 'a later typo counts from zero');
  t.equal(await sshLogin(lab, lab.client.ns, lab.client.server4, PORT, SSH_PASSWORD), 0, 'and still logs in');
  t.notOk((await bans(agent)).some((b) => b.address === lab.client.ip4), 'the user is not banned');
});

t.test('rotation by rename and copytruncate mid-attack lose no count', async (t) => {
  const { lab, sshd, agent } = await sshLab(t, 4);
  const host = lab.attacker.server4;
  const fails = async (n: number) => {
    for (let i = 0; i < n; i++) t.equal(await sshLogin(lab, lab.attacker.ns, host, PORT, `wrong-${i}`), 5);
  };
  await fails(1);
  // logrotate's default: rename, then the daemon is told to open its file again.
  renameSync(sshd.log, `${sshd.log}.1`);
  await fails(1); // still written to the renamed file: sshd has not reopened yet
  await sshd.hup();
  await fails(1); // into the new file
  // logrotate's copytruncate: copy, then truncate in place (sshd appends on).
  copyFileSync(sshd.log, `${sshd.log}.2`);
  truncateSync(sshd.log, 0);
  t.notOk((await bans(agent)).some((b) => b.address === lab.attacker.ip4), 'not banned after 3 of 4');
  await fails(1);
  const ban = await agent.waitFor((e) => e.event === 'ban' && e.address === lab.attacker.ip4, 15_000, 'the ban after the 4th failure');
  t.match(ban, { by: 'log:sshd' });
  t.ok(agent.events.some((e) => e.event === 'log-source' && e.state === 'rotated'), 'the rotation was seen');
  t.ok(agent.events.some((e) => e.event === 'log-source' && e.state === 'truncated'), 'the truncation was seen');
});
