// Malformed and hostile packets crafted with scapy never crash the agent; deny rules and denied
// networks hold over IPv4 and IPv6; debug mode prints each packet and writes a pcap tcpdump reads.
import t from 'tap';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { probe } from '../../agent/src/demo/probes.js';
import { agentLab, testPolicy } from '../lib/agent-lab.js';

const SCAPY = '/usr/bin/python3';

// Each line is one hostile packet; sent once each, from the attacker, to the server.
function scapyScript(dst4: string, dst6: string): string {
  return `
import logging; logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, IPv6, TCP, UDP, ICMP, Raw, IPv6ExtHdrFragment, IPv6ExtHdrDestOpt, fragment, send, conf
conf.verb = 0
d4, d6 = "${dst4}", "${dst6}"
pkts = [
  IP(dst=d4, ihl=15)/TCP(dport=8080, flags="S"),                  # IHL beyond the packet
  IP(dst=d4, ihl=3)/TCP(dport=8080, flags="S"),                   # IHL below 5
  IP(dst=d4, len=20)/TCP(dport=8080, flags="S"),                  # total length lies (short)
  IP(dst=d4, len=60000)/TCP(dport=8080, flags="S"),               # total length lies (long)
  IP(dst=d4, proto=6)/Raw(b"\\x1f\\x90"),                          # truncated TCP header
  IP(dst=d4)/TCP(dport=8080, flags="S", dataofs=15),              # TCP data offset beyond
  IP(dst=d4)/UDP(dport=8080, len=4),                              # UDP length lies
  IP(dst=d4, proto=200)/Raw(b"\\x00" * 7),                         # unknown protocol, garbage
  IP(dst=d4, flags="MF", frag=0, proto=6)/Raw(b"\\x1f\\x90\\x00\\x50"), # tiny first fragment
  IP(dst=d4, frag=1, proto=6)/Raw(b"A" * 40),                     # overlapping later fragment
  IPv6(dst=d6, plen=200)/TCP(dport=8080, flags="S"),               # payload length lies
  IPv6(dst=d6)/IPv6ExtHdrDestOpt()/IPv6ExtHdrDestOpt()/IPv6ExtHdrDestOpt()/TCP(dport=8080, flags="S"),
  IPv6(dst=d6, nh=44)/Raw(b"\\x06"),                               # truncated fragment header
  IP(dst=d4)/ICMP(type=8)/Raw(b"x" * 2000),                      # oversized, fragmented by scapy below
]
for p in pkts:
  send(p)
for f in fragment(IP(dst=d4)/ICMP(type=8)/Raw(b"y" * 3000), fragsize=8):
  send(f)
`;
}

t.test('hostile packets: the agent survives and keeps judging', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy());
  await lab.exec(lab.attacker.ns, SCAPY, ['-c', scapyScript(lab.attacker.server4, lab.attacker.server6)], { timeoutMs: 60_000 });
  const status = await agent.cli(['status', '--json']);
  t.equal(status.code, 0, 'status answers after the hostile packets');
  t.ok(JSON.parse(status.stdout).queue.received > 0, 'packets were judged');
  t.equal(agent.child.exitCode, null, 'the agent is still running');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).replies, 1, 'and still lets the client in');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 9090)).connected, false, 'and still keeps closed ports closed');
  t.notOk(agent.events.some((e) => e.event === 'internal-error'), 'no internal error logged');
});

t.test('deny rules and denied networks, IPv4 and IPv6', async (t) => {
  const { lab } = await agentLab(
    t,
    testPolicy({
      denyNetworks: ['203.0.113.0/24', '2001:db8:bad::/48'],
      rules: [
        { name: 'deny-attacker-v6', action: 'drop', source: ['2001:db8:1::/64'] },
        { name: 'web', action: 'accept', protocol: 'tcp', ports: [8080] },
      ],
    }),
  );
  const srv4 = lab.attacker.server4;
  const srv6 = lab.attacker.server6;
  t.equal((await probe(lab, lab.attacker.ns, srv4, 8080)).replies, 1, 'v4 attacker allowed to 8080');
  t.equal((await probe(lab, lab.attacker.ns, srv4, 8080, { local: lab.denied4 })).connected, false, 'v4 denied network dropped');
  t.equal((await probe(lab, lab.attacker.ns, srv6, 8080, { local: lab.denied6 })).connected, false, 'v6 denied network dropped');
  t.equal((await probe(lab, lab.attacker.ns, srv6, 8080)).connected, false, 'v6 deny rule by source');
  t.equal((await probe(lab, lab.client.ns, lab.client.server6, 8080)).replies, 1, 'v6 client allowed');
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 9090)).connected, false, 'a port not allowed stays closed');
});

t.test('debug mode prints packets and writes a pcap tcpdump reads', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-pcap-'));
  t.teardown(() => execFileSync('rm', ['-rf', dir]));
  const pcap = join(dir, 'judged.pcap');
  const { lab, agent } = await agentLab(t, testPolicy(), ['--debug', '--pcap', pcap]);
  await probe(lab, lab.client.ns, lab.client.server4, 8080);
  await probe(lab, lab.client.ns, lab.client.server6, 8080);
  t.ok(agent.stderr.some((l) => l.includes(`${lab.client.ip4}`) && l.includes('8080') && l.includes('accept')), 'a readable line per packet');
  await agent.stop();
  t.ok(existsSync(pcap));
  const read = execFileSync('tcpdump', ['-nn', '-r', pcap], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  t.match(read, `${lab.client.ip4}`, 'tcpdump reads the v4 packet');
  t.match(read, `${lab.client.ip6}`, 'and the v6 one');
});
