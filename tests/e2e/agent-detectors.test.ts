// Real attacks against the real agent in a lab: floods, oversized pings and scans get their
// sources banned (or their packets dropped) while an innocent client keeps working.
import t from 'tap';
import { pingCount, probe } from '../../agent/src/demo/probes.js';
import { agentLab, testPolicy } from '../lib/agent-lab.js';

async function bans(agent: { cli(a: string[]): Promise<{ stdout: string }> }) {
  return JSON.parse((await agent.cli(['bans', '--json'])).stdout) as Array<{ address: string; by: string }>;
}

t.test('SYN flood from one source: banned by the end of a one-second flood, a second client still connects', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy());
  const srv = lab.attacker.server4;
  t.equal((await probe(lab, lab.attacker.ns, srv, 8080)).replies, 1, 'attacker can connect before the flood');
  // 2000 SYNs, 0.5 ms apart: about one second of flood, bounded by count.
  const flood = lab.status(lab.attacker.ns, 'hping3', ['-q', '-S', '-p', '8080', '-i', 'u500', '-c', '2000', srv], { timeoutMs: 20_000 });
  const during = await probe(lab, lab.client.ns, lab.client.server4, 8080);
  await flood;
  const list = await bans(agent);
  t.match(list.find((b) => b.address === lab.attacker.ip4), { by: 'detector:synFlood' }, 'flooder banned by the SYN-flood detector');
  t.equal(during.replies, 1, 'the client completed its connection during the flood');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).replies, 1, 'and after it');
  t.equal((await probe(lab, lab.attacker.ns, srv, 8080)).connected, false, 'the banned source cannot connect');
  const ban = await agent.waitFor((e) => e.event === 'ban' && e.address === lab.attacker.ip4);
  t.match(ban, { by: 'detector:synFlood', duration: '10m' }, 'a ban event was logged');
  const set = await lab.exec(lab.server, 'ipset', ['list', 'vpsfw-ban4']);
  t.match(set.stdout, new RegExp(`${lab.attacker.ip4.replace(/\./g, '\\.')} timeout \\d+`), 'the ban is in the kernel set with a timeout');
});

t.test('ICMP flood banned, oversized echo dropped, normal ping answered', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy({ detectors: { oversizedIcmp: { maxBytes: 1024, ban: false } } }));
  const srv = lab.attacker.server4;
  const big = await lab.attackerAlias(1);
  t.equal(await pingCount(lab, lab.client.ns, lab.client.server4, { count: 3 }), 3, 'normal ping answered');
  t.equal(await pingCount(lab, lab.attacker.ns, srv, { count: 2, size: 1400, local: big.ip4, deadlineS: 3 }), 0, 'oversized echo dropped');
  t.equal(await pingCount(lab, lab.attacker.ns, srv, { count: 2, local: big.ip4, deadlineS: 3 }), 2, 'the same source is not banned for it: small pings answered');
  const flooded = await pingCount(lab, lab.attacker.ns, srv, { count: 300, flood: true, deadlineS: 5 });
  t.ok(flooded < 300, `flood cut short (${flooded}/300 answered)`);
  t.match((await bans(agent)).find((b) => b.address === lab.attacker.ip4), { by: 'detector:icmpFlood' }, 'flooder banned');
  t.equal(await pingCount(lab, lab.client.ns, lab.client.server4, { count: 2 }), 2, 'the client is still answered');
});

t.test('IPv6: ICMPv6 flood banned, ping6 answered', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy());
  const flooded = await pingCount(lab, lab.attacker.ns, lab.attacker.server6, { count: 300, flood: true, deadlineS: 5 });
  t.ok(flooded < 300, `flood cut short (${flooded}/300)`);
  t.match((await bans(agent)).find((b) => b.address === lab.attacker.ip6), { by: 'detector:icmpFlood' }, 'v6 flooder banned');
  const set = await lab.exec(lab.server, 'ipset', ['list', 'vpsfw-ban6']);
  t.match(set.stdout, lab.attacker.ip6, 'in the v6 kernel set');
  t.equal(await pingCount(lab, lab.client.ns, lab.client.server6, { count: 2 }), 2, 'the v6 client is still answered');
});

t.test('port scan: banned; a client opening many connections to one open port is not', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy({ detectors: { portScan: { ports: 12, window: '10s', ban: '1h' } } }));
  for (let i = 0; i < 15; i++) await probe(lab, lab.client.ns, lab.client.server4, 8080);
  await lab.status(lab.attacker.ns, 'hping3', ['-q', '-S', '-p', '++1000', '-i', 'u10000', '-c', '30', lab.attacker.server4], { timeoutMs: 15_000 });
  const list = await bans(agent);
  t.match(list.find((b) => b.address === lab.attacker.ip4), { by: 'detector:portScan' }, 'scanner banned');
  t.notOk(list.find((b) => b.address === lab.client.ip4), 'busy client not banned');
});
