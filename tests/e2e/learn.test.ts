// `vpsfw learn` against lab traffic: a client uses the web server (IPv4 and IPv6) and SSH, a
// scanner probes closed ports, other ports listen unused. The proposal passes `vpsfw check`, opens
// exactly the used ports, and once applied (a reload) keeps the client working and shuts the scanner out.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, VPSFW_BIN } from '../../agent/src/demo/agent-process.js';
import { probe, startService } from '../../agent/src/demo/probes.js';
import { SERVICE_PORTS } from '../lib/agent-lab.js';
import { labFor } from '../lib/netns.js';
import { SSH_PASSWORD, sshLogin, startSshd } from '../lib/sshd.js';

const SSH = 2222;

t.test('learn proposes exactly the used ports, and the scanner as a denied network', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-learn-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lab = await labFor(t);
  const service = startService(lab, lab.server, SERVICE_PORTS); // 22, 80, 8080, 9090 listen
  t.teardown(() => service.kill());
  await startSshd(t, lab, { port: SSH });
  // A first day's policy: everything let in, nothing banned, so every connection is seen.
  const firstDay = {
    version: 1,
    defaults: { inbound: 'accept' },
    rules: [{ name: 'ping', action: 'accept', protocol: 'icmp' }],
    detectors: { portScan: { enabled: false }, synFlood: { enabled: false } },
  };
  const agent = await startAgent({ ns: lab.server, policy: firstDay });
  t.teardown(() => agent.stop());

  const out = join(dir, 'proposed.json');
  const agentLog = join(dir, 'agent.log');
  writeFileSync(agentLog, '');
  const learning = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const c = spawn('ip', ['netns', 'exec', lab.server, process.execPath, VPSFW_BIN, 'learn', '--duration', '12s', '--agent-log', agentLog, '--policy', agent.policyPath, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  await new Promise((r) => setTimeout(r, 1500)); // conntrack is listening

  for (let i = 0; i < 4; i++) t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).replies, 1, 'client uses the web server (IPv4)');
  t.equal((await probe(lab, lab.client.ns, lab.client.server6, 8080)).replies, 1, 'and over IPv6');
  t.equal(await sshLogin(lab, lab.client.ns, lab.client.server4, SSH, SSH_PASSWORD), 0, 'client logs in over SSH');
  const scanner = await lab.attackerAlias(1);
  for (const port of [1001, 1002, 1003, 3306, 5432, 6379]) t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, port, { local: scanner.ip4 })).connected, false, `scanner finds ${port} closed`);

  const r = await learning;
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /rules\.learned-tcp-8080: tcp 8080 is listened on and was used 5 times by 2 sources over IPv4 and IPv6/);
  t.match(r.stdout, /\+ rules learned-tcp-2222/, 'the diff names what is added');
  const check = await lab.status(lab.server, process.execPath, [VPSFW_BIN, 'check', '--policy', out]);
  t.equal(check.code, 0, `vpsfw check accepts it: ${check.stderr}`);
  const proposed = JSON.parse(readFileSync(out, 'utf8')) as { rules: Array<{ action: string; protocol: string; ports?: number[]; source?: string[] }>; denyNetworks: string[]; rateLimits: Array<{ ports: number[]; rate: number; burst: number }>; defaults: { inbound: string } };
  const opened = proposed.rules.filter((x) => x.action === 'accept' && x.ports).flatMap((x) => x.ports!.map((p) => `${x.protocol}/${p}`)).sort();
  t.same(opened, ['tcp/2222', 'tcp/8080'], 'exactly the used ports: not 22, 80 or 9090 (listening, unused), not the scanned ones');
  t.same(proposed.rules.find((x) => x.ports?.includes(SSH))?.source, ['0.0.0.0/0'], 'SSH was used over IPv4 only');
  t.equal(proposed.rules.find((x) => x.ports?.includes(8080))?.source, undefined, 'the web port over both families');
  t.equal(proposed.defaults.inbound, 'drop');
  t.same(proposed.denyNetworks, [`${scanner.ip4}/32`], 'the scanner, and only it, is a deny candidate');
  t.same(proposed.rateLimits.map((x) => x.ports[0]).sort(), [2222, 8080]);

  // Applied: the client still works, unused ports are shut, the scanner is out.
  agent.writePolicy(proposed);
  const reload = await agent.cli(['reload']);
  t.equal(reload.code, 0, reload.stderr);
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).replies, 1, 'client still reaches the web server');
  t.equal(await sshLogin(lab, lab.client.ns, lab.client.server4, SSH, SSH_PASSWORD), 0, 'and SSH');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 9090)).connected, false, 'an unused listening port is closed now');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080, { local: scanner.ip4 })).connected, false, 'the scanner cannot reach even the open port');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080)).replies, 1, 'another attacker address (never seen scanning) can');
});
