// Never weaker than the host's own firewall: a packet vpsfw accepts goes on to the rules after its
// jump. With real ufw (Debian's package) denying the client and vpsfw's policy accepting the port,
// the client stays refused; a plain DROP rule after vpsfw's jumps still drops; ufw's own rules and
// vpsfw's judgement both apply to everyone else. ufw runs inside the lab's server namespace with
// its configuration in a private mount namespace (a copy of /etc/ufw), so the host's ufw and its
// settings are never touched.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe } from '../../agent/src/demo/probes.js';
import { agentLab, testPolicy } from '../lib/agent-lab.js';
import type { Lab } from '../lib/netns.js';

/** Runs ufw commands in the namespace with a private copy of its configuration (no sysctl changes). */
async function ufw(lab: Lab, conf: string, commands: string[]): Promise<string> {
  const script = `set -e
mount --bind "$CONF/etc-ufw" /etc/ufw
mount --bind "$CONF/default-ufw" /etc/default/ufw
${commands.map((c) => `ufw ${c}`).join('\n')}`;
  const r = await lab.exec(lab.server, 'unshare', ['--mount', '--propagation', 'private', 'env', `CONF=${conf}`, 'sh', '-c', script], { timeoutMs: 60_000 });
  return r.stdout;
}

function ufwConf(t: { teardown(f: () => void): void }, lab: Lab): Promise<string> {
  const conf = mkdtempSync(join(tmpdir(), 'vpsfw-ufw-'));
  t.teardown(() => rmSync(conf, { recursive: true, force: true }));
  return lab
    .exec(lab.server, 'sh', ['-c', `cp -a /etc/ufw "${conf}/etc-ufw" && sed 's|^IPT_SYSCTL=.*|IPT_SYSCTL=/dev/null|' /etc/default/ufw > "${conf}/default-ufw"`])
    .then(() => conf);
}

t.test('real ufw: its deny wins over vpsfw accepting the port; its allow and vpsfw\'s refusals both apply', async (t) => {
  const { lab } = await agentLab(t, testPolicy());
  const conf = await ufwConf(t, lab);
  const out = await ufw(lab, conf, ['--force enable', 'allow 8080/tcp', 'allow 9090/tcp', `insert 1 deny from ${lab.client.ip4}`, 'status verbose']);
  t.match(out, /Status: active/);
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).connected, false, 'ufw denies the client: vpsfw accepting 8080 does not override it');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080)).replies, 1, 'another host: both allow 8080');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 9090)).connected, false, 'ufw allows 9090, vpsfw refuses it: refused');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 22)).connected, false, "ufw's default deny still applies to what vpsfw does not judge");
});

t.test('a plain DROP rule after vpsfw\'s jumps still drops what vpsfw accepts, in filter and in mangle', async (t) => {
  const { lab } = await agentLab(t, testPolicy());
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).replies, 1, 'accepted by vpsfw');
  await lab.exec(lab.server, 'iptables', ['-A', 'INPUT', '-s', lab.client.ip4, '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).connected, false, 'filter INPUT: dropped');
  await lab.exec(lab.server, 'iptables', ['-D', 'INPUT', '-s', lab.client.ip4, '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
  await lab.exec(lab.server, 'ip6tables', ['-t', 'mangle', '-A', 'INPUT', '-s', lab.client.ip6, '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
  t.equal((await probe(lab, lab.client.ns, lab.client.server6, 8080)).connected, false, 'mangle INPUT, after our jump there: dropped (the accept goes on past it)');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).replies, 1, 'the other family untouched');
});
