// Suricata's eve.json, written the way Suricata writes it (one JSON object per line, each written
// and flushed as it happens, by a process that keeps the file open): alerts at or above
// minSeverity ban their src_ip and the kernel drops it; less severe alerts and other records ban nothing.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startAgent } from '../../agent/src/demo/agent-process.js';
import { probe, startService } from '../../agent/src/demo/probes.js';
import { SERVICE_PORTS, testPolicy } from '../lib/agent-lab.js';
import { labFor } from '../lib/netns.js';

/** A writer like Suricata's eve-log: the file opened once for appending, each record one write. */
const WRITER = `
const fs = require('node:fs');
const fd = fs.openSync(process.argv[1], 'a');
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => fs.writeSync(fd, l + '\\n'));
`;

t.test('eve alerts ban at and above the severity only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-eve-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const eve = join(dir, 'eve.json');
  writeFileSync(eve, '');
  const lab = await labFor(t);
  const service = startService(lab, lab.server, SERVICE_PORTS);
  t.teardown(() => service.kill());
  const agent = await startAgent({ ns: lab.server, policy: testPolicy({ logSources: [{ name: 'ids', kind: 'suricata-eve', file: eve, minSeverity: 2, ban: '2h', signatures: { '2100498': '10m' } }] }) });
  t.teardown(() => agent.stop());
  await agent.waitFor((e) => e.event === 'log-source' && e.state === 'opened', 10_000, 'the log source');
  const writer = spawn(process.execPath, ['-e', WRITER, eve], { stdio: ['pipe', 'ignore', 'inherit'] });
  t.teardown(() => writer.kill());

  const src = await Promise.all([1, 2, 3, 4, 5].map((n) => lab.attackerAlias(n)));
  // Suricata may print every zero of an IPv6 address.
  t.equal(src[4]!.ip6, '2001:db8:1::15');
  const full6 = '2001:0db8:0001:0000:0000:0000:0000:0015';
  const at = new Date().toISOString().replace('Z', '+0000');
  const rec = (ip: string, severity: number, sid: number, event_type = 'alert') =>
    JSON.stringify({ timestamp: at, flow_id: 1234, in_iface: 'eth0', event_type, src_ip: ip, src_port: 40000, dest_ip: lab.attacker.server4, dest_port: 8080, proto: 'TCP', ...(event_type === 'alert' ? { alert: { action: 'allowed', gid: 1, signature_id: sid, rev: 3, signature: `test rule ${sid}`, category: 'Attempted Administrator Privilege Gain', severity } } : { flow: { pkts_toserver: 3 } }) });
  const lines = [
    rec(src[0]!.ip4, 1, 2000001),
    rec(src[1]!.ip4, 3, 2000002),
    rec(src[2]!.ip4, 2, 2000003),
    rec(src[3]!.ip4, 1, 2000004, 'flow'),
    rec(full6, 1, 2000005),
    rec(src[1]!.ip6, 4, 2100498),
  ];
  for (const l of lines) {
    writer.stdin!.write(l + '\n');
    await new Promise((r) => setTimeout(r, 50));
  }
  const wantBanned = [src[0]!.ip4, src[2]!.ip4, src[4]!.ip6, src[1]!.ip6];
  for (const a of wantBanned) t.match(await agent.waitFor((e) => e.event === 'ban' && e.address === a, 15_000, `ban of ${a}`), { by: 'log:ids', origin: 'log' }, `${a} banned`);
  t.match(agent.events.find((e) => e.event === 'ban' && e.address === src[1]!.ip6), { duration: '10m' }, 'the mapped signature\'s own length, whatever its severity');
  t.match(agent.events.find((e) => e.event === 'ban' && e.address === src[0]!.ip4), { duration: '2h', reason: 'suricata 2000001: test rule 2000001' });
  const list = JSON.parse((await agent.cli(['bans', '--json'])).stdout) as Array<{ address: string }>;
  t.same(list.map((b) => b.address).sort(), [...wantBanned].sort(), 'severity 3 and a flow record banned nothing');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080, { local: src[0]!.ip4 })).connected, false, 'the kernel drops a banned source');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080, { local: src[1]!.ip4 })).replies, 1, 'the severity-3 source still connects');
});
