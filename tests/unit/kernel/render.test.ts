// Policy → kernel plan: snapshots of the whole documents (default policy and one that uses every
// feature), plus the invariants an operator relies on: bans and denied networks die in raw before
// connection tracking; the static rules are decided in the kernel, in policy order, so nothing a
// rule refuses is ever queued (overflow can never admit it); only what a judge needs is queued,
// behind a per-source bound; what is refused is shown to the detectors; an accept lets the packet
// go on to the rules after our jump; fail-open bypasses the queue and fail-closed does not; each
// family gets only its own networks; the same policy always renders the same text.
import t from 'tap';
import { parsePolicy } from '../../../agent/src/policy/load.js';
import { defaultPolicyDocument } from '../../../agent/src/policy/defaults.js';
import type { PolicyInput } from '../../../agent/src/policy/schema.js';
import { entryMatches, multiportLists, renderFamily, renderKernel } from '../../../agent/src/kernel/render.js';
import { CONNMARK_DONE_IN, CONNMARK_DONE_OUT, ESTABLISHED_MARK, MARK_MASK, PASS_MARK, REJECT_MARK, TABLE_CHAINS } from '../../../agent/src/kernel/names.js';

const policyOf = (doc: PolicyInput) => parsePolicy(doc, 'test').policy;
const hex = (n: number) => `0x${n.toString(16)}`;

/** Every feature the renderer knows, fail-closed. */
const everything: PolicyInput = {
  version: 1,
  queue: { num: 7, failMode: 'closed', logGroup: 9, perSource: { rate: 300, burst: 600 } },
  defaults: { inbound: 'drop', outbound: 'accept' },
  denyNetworks: ['203.0.113.0/24', '2001:db8:bad::/48', '198.51.100.7'],
  trustedInterfaces: ['wg0', 'tailscale+'],
  rules: [
    { name: 'ssh-admins', action: 'accept', protocol: 'tcp', localPorts: [22], source: ['192.0.2.0/24', '2001:db8:1::/64'] },
    { name: 'web', action: 'accept', protocol: 'tcp', ports: [80, 443, '8000-8100'] },
    { name: 'dns-lan', action: 'accept', protocol: 'udp', localPorts: [53], interfaces: ['eth1'] },
    { name: 'ident', action: 'reject', protocol: 'tcp', localPorts: [113] },
    { name: 'smtp-out', action: 'reject', direction: 'outbound', protocol: 'tcp', remotePorts: [25] },
  ],
  rateLimits: [{ name: 'web-conns', protocol: 'tcp', localPorts: [80, 443], rate: 50, burst: 100 }],
  payloadRules: [
    { name: 'no-passwd', protocol: 'tcp', localPorts: [80, 8080], pattern: { text: '/etc/passwd' }, action: 'drop' },
    { name: 'dns-probe', protocol: 'udp', localPorts: [53], pattern: { hex: 'de ad' }, action: 'log' },
    { name: 'leak', protocol: 'tcp', direction: 'outbound', localPorts: [2222], pattern: { text: 'SECRET' }, action: 'reject', depth: 300 },
    { name: 'exfil', protocol: 'tcp', direction: 'outbound', remotePorts: [443], pattern: { text: 'SECRET' }, action: 'reject' },
  ],
  bans: { allowlist: ['127.0.0.0/8', '::1/128', '198.51.100.0/24', '2001:db8:2::/64'] },
};

const lines = (doc: string) => doc.split('\n');
const tableOf = (doc: string, table: string) => {
  const all = lines(doc);
  const from = all.indexOf(`*${table}`);
  return all.slice(from, all.indexOf('COMMIT', from) + 1);
};
const chainRules = (doc: string, chain: string) => lines(doc).filter((l) => l.startsWith(`-A ${chain} `));
const queueRules = (doc: string) => lines(doc).filter((l) => l.includes('-j NFQUEUE'));

t.test('snapshots', async (t) => {
  for (const [name, doc] of [
    ['default policy', defaultPolicyDocument],
    ['every feature, fail-closed', everything],
  ] as const) {
    const plan = renderKernel(policyOf(doc));
    t.matchSnapshot(plan.ipv4, `${name}: ipv4`);
    t.matchSnapshot(plan.ipv6, `${name}: ipv6`);
    t.matchSnapshot(plan.ipset, `${name}: ipset`);
  }
});

t.test('documents declare and fill only our chains, in raw, mangle and filter; never accept', async (t) => {
  const plan = renderKernel(policyOf(everything));
  for (const doc of [plan.ipv4, plan.ipv6]) {
    for (const [table, chains] of Object.entries(TABLE_CHAINS)) {
      const body = tableOf(doc, table);
      t.same(body.filter((l) => l.startsWith(':')), chains.map((c) => `${c} - [0:0]`).map((c) => `:${c}`), `${table}: declares exactly our chains`);
      t.ok(body.filter((l) => l.startsWith('-A ')).every((l) => chains.some((c) => l.startsWith(`-A ${c} `))), `${table}: fills only them`);
    }
    t.notMatch(doc, /-j ACCEPT/, 'what we let by goes on to the rules after ours, never accepted');
    t.ok(doc.endsWith('COMMIT\n'));
  }
});

t.test('renderFamily is one family of renderKernel', async (t) => {
  const policy = policyOf(everything);
  const plan = renderKernel(policy);
  t.equal(renderFamily(policy, 4), plan.ipv4);
  t.equal(renderFamily(policy, 6), plan.ipv6);
});

t.test('bans, banned networks and denied networks are dropped in raw, before connection tracking, unless allowlisted', async (t) => {
  for (const [family, f] of [['ipv4', 4], ['ipv6', 6]] as const) {
    const raw = chainRules(renderKernel(policyOf(everything))[family], 'VPSFW-RAW');
    const unless = ` -m set ! --match-set vpsfw-allow${f} src`;
    t.match(raw[0], /-i lo -j RETURN$/);
    t.match(raw.filter((l) => l.endsWith('-j DROP')), [new RegExp(`--match-set vpsfw-ban${f} src${unless} .*-j DROP$`), new RegExp(`--match-set vpsfw-bannet${f} src${unless} .*-j DROP$`), new RegExp(`--match-set vpsfw-deny${f} src${unless} .*-j DROP$`)]);
    const nd = raw.filter((l) => l.includes('--icmpv6-type')).map((l) => Number(/--icmpv6-type (\d+)/.exec(l)![1]));
    t.same(nd, family === 'ipv6' ? [133, 134, 135, 136] : [], 'neighbour discovery passes even from a banned address (v6), before any drop');
    t.ok(raw.findIndex((l) => l.endsWith('-j DROP')) > raw.findLastIndex((l) => l.includes('--icmpv6-type')));
    const mangle = tableOf(renderKernel(policyOf(everything))[family], 'mangle').join('\n');
    t.notMatch(mangle, /vpsfw-(ban|deny)/, 'no ban or deny lookup is left for mangle: the fast path pays for it once, in raw');
  }
});

t.test('fail-open queues with --queue-bypass, fail-closed without', async (t) => {
  const open = renderKernel(policyOf({ ...everything, queue: { num: 7, failMode: 'open' } }));
  const closed = renderKernel(policyOf(everything));
  for (const family of ['ipv4', 'ipv6'] as const) {
    t.ok(queueRules(open[family]).length > 0);
    t.ok(queueRules(open[family]).every((l) => l.endsWith('--queue-num 7 --queue-bypass')), `${family} open: every queue rule bypasses`);
    t.ok(queueRules(closed[family]).every((l) => l.endsWith('--queue-num 7')), `${family} closed: no queue rule bypasses`);
  }
});

t.test('the static rules are decided in the kernel, in policy order, before anything is queued', async (t) => {
  const v4 = renderKernel(policyOf(everything)).ipv4;
  const input = chainRules(v4, 'VPSFW-INPUT');
  const ruleLines = input.filter((l) => /vpsfw: (rule|default) /.test(l));
  t.same(
    ruleLines.map((l) => /vpsfw: ((rule|default) [\w-]+)/.exec(l)![1]),
    ['rule ssh-admins', 'rule web', 'rule dns-lan', 'rule ident', 'default inbound'],
    'inbound rules in order (IPv4 lines only for the IPv4 source), then the default',
  );
  t.match(ruleLines, [
    /-p tcp -s 192\.0\.2\.0\/24 -m multiport --dports 22 .*-g VPSFW-JUDGE$/,
    /-p tcp -m multiport --dports 80,443,8000:8100 .*-g VPSFW-JUDGE$/,
    /-p udp -i eth1 -m multiport --dports 53 .*-g VPSFW-JUDGE$/,
    /-p tcp -m multiport --dports 113 .*-g VPSFW-REFUSE-REJECT$/,
    /-g VPSFW-REFUSE-DROP$/,
  ]);
  t.notOk(input.some((l) => l.includes('NFQUEUE')), 'VPSFW-INPUT queues nothing itself: only what a rule accepted can reach the queue');
  t.notOk(chainRules(v4, 'VPSFW-REFUSE-DROP').some((l) => l.includes('NFQUEUE')) || chainRules(v4, 'VPSFW-REFUSE-REJECT').some((l) => l.includes('NFQUEUE')), 'refused packets are never queued');
  t.match(chainRules(v4, 'VPSFW-REFUSE-DROP').at(-1), /-j DROP$/);
  t.match(chainRules(v4, 'VPSFW-REFUSE-REJECT').at(-1), new RegExp(`-j MARK --set-xmark ${hex(REJECT_MARK)}/${hex(MARK_MASK)}$`), 'a static reject is marked, and rejected in filter');
});

t.test('only what a judge needs is queued, behind the per-source bound', async (t) => {
  const v4 = renderKernel(policyOf(everything)).ipv4;
  t.match(chainRules(v4, 'VPSFW-JUDGE'), [
    /-p tcp -m multiport --dports 80,443 -m comment --comment "vpsfw: judged by rate limit web-conns" -g VPSFW-QUEUE$/,
    /-p tcp -m multiport --dports 80,8080 .*payload rule no-passwd" -g VPSFW-QUEUE$/,
    /-p udp -m multiport --dports 53 .*payload rule dns-probe" -g VPSFW-QUEUE$/,
    /-p tcp --syn .*synFlood" -g VPSFW-QUEUE$/,
    /--icmp-type 8 .*-g VPSFW-QUEUE$/,
  ]);
  t.equal(chainRules(v4, 'VPSFW-JUDGE').length, 5, 'the rest of what the rules accept goes on unqueued');
  t.match(chainRules(v4, 'VPSFW-QUEUE'), [/-m hashlimit --hashlimit-above 300\/sec --hashlimit-burst 600 --hashlimit-mode srcip --hashlimit-name vq4-300-600 .*-j DROP$/, /-j NFQUEUE --queue-num 7$/]);
  const quiet = renderKernel(policyOf({ version: 1, rules: [{ name: 'dns', action: 'accept', protocol: 'udp', localPorts: [53] }], detectors: { synFlood: { enabled: false }, icmpFlood: { enabled: false }, oversizedIcmp: { enabled: false } } })).ipv4;
  t.same(chainRules(quiet, 'VPSFW-JUDGE'), [], 'nothing to judge: nothing queued for new traffic');
});

t.test('what the rules refuse is shown to the detectors that need it, within the same bound', async (t) => {
  const v4 = renderKernel(policyOf(everything)).ipv4;
  const observe = chainRules(v4, 'VPSFW-OBSERVE');
  t.match(observe, [/^-A VPSFW-OBSERVE -p tcp -m hashlimit --hashlimit-upto 300\/sec .*-j NFLOG --nflog-group 9 --nflog-size \d+$/, /-p udp .*NFLOG/, /--icmp-type 8 .*NFLOG/]);
  t.match(chainRules(v4, 'VPSFW-REFUSE-DROP')[0], /-j VPSFW-OBSERVE$/);
  t.match(chainRules(v4, 'VPSFW-REFUSE-REJECT')[0], /-j VPSFW-OBSERVE$/);
  const blind = renderKernel(policyOf({ version: 1, detectors: { synFlood: { enabled: false }, icmpFlood: { enabled: false }, oversizedIcmp: { enabled: false }, portScan: { enabled: false } } })).ipv4;
  t.same(chainRules(blind, 'VPSFW-OBSERVE'), [], 'no detector, no copy');
  t.same(chainRules(blind, 'VPSFW-REFUSE-DROP'), ['-A VPSFW-REFUSE-DROP -j DROP']);
});

t.test("the agent's verdicts come back marked: accept goes on past our jump, a finished flow is marked in conntrack", async (t) => {
  for (const family of ['ipv4', 'ipv6'] as const) {
    const plan = renderKernel(policyOf(everything))[family];
    const input = chainRules(plan, 'VPSFW-INPUT');
    t.match(input[0], new RegExp(`--mark ${hex(PASS_MARK)}/${hex(MARK_MASK)} -g VPSFW-PASS$`), 'PASS first: the rules after our jump see the packet next');
    t.same(chainRules(plan, 'VPSFW-PASS'), [`-A VPSFW-PASS -j MARK --set-xmark 0x0/${hex(MARK_MASK)}`], 'its mark bits cleared (they were ours)');
    t.match(chainRules(plan, 'VPSFW-DONE-IN'), [new RegExp(`-j CONNMARK --set-xmark ${hex(CONNMARK_DONE_IN)}/${hex(CONNMARK_DONE_IN)}$`), /-j MARK --set-xmark 0x0\//]);
    t.match(chainRules(plan, 'VPSFW-DONE-OUT')[0], new RegExp(`--set-xmark ${hex(CONNMARK_DONE_OUT)}/${hex(CONNMARK_DONE_OUT)}$`));
    const reject = chainRules(plan, 'VPSFW-REJECT');
    t.match(reject, [new RegExp(`-p tcp -m mark --mark ${hex(REJECT_MARK)}/${hex(MARK_MASK)} .*-j REJECT --reject-with tcp-reset$`), family === 'ipv4' ? /icmp-port-unreachable$/ : /icmp6-port-unreachable$/]);
    t.ok(tableOf(plan, 'filter').some((l) => l.startsWith('-A VPSFW-REJECT')), 'rejected in filter, where REJECT may run');
  }
});

t.test('the fast path: marks, loopback and trusted interfaces, then established packets to their own chain', async (t) => {
  for (const doc of [everything, defaultPolicyDocument]) {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const plan = renderKernel(policyOf(doc))[family];
      const input = chainRules(plan, 'VPSFW-INPUT');
      const at = input.findIndex((l) => l.includes('-g VPSFW-ESTABLISHED'));
      t.equal(at, 5 + (doc === everything ? 2 : 0), `${family}: after the four marks, lo and the trusted interfaces`);
      t.ok(input.slice(0, at).every((l) => l.includes('-m mark') || l.endsWith('-j RETURN')));
      const est = chainRules(plan, 'VPSFW-ESTABLISHED');
      t.notOk(est.some((l) => l.includes('-j DROP')), 'no drop there: bans and denials cut flows in raw');
    }
  }
  const trusted = chainRules(renderKernel(policyOf(everything)).ipv4, 'VPSFW-INPUT').filter((l) => l.includes('trusted interface'));
  t.match(trusted, [/-i wg0 .*-j RETURN$/, /-i tailscale\+ .*-j RETURN$/]);
});

t.test('payload rules: established packets of the flows they watch are marked and queued until done, by whose port is whose', async (t) => {
  const v4 = renderKernel(policyOf(everything)).ipv4;
  const est = chainRules(v4, 'VPSFW-ESTABLISHED');
  const doneIn = est.findIndex((l) => l.includes(`--mark ${hex(CONNMARK_DONE_IN)}/${hex(CONNMARK_DONE_IN)}`) && l.endsWith('-j RETURN'));
  t.ok(doneIn >= 0, 'a flow marked done is not queued again');
  t.match(est.filter((l) => l.includes('-j MARK')), [
    /-p tcp -m multiport --dports 80,8080 -m conntrack --ctstate ESTABLISHED -m set ! --match-set vpsfw-allow4 src .*no-passwd/,
    /-p udp -m multiport --dports 53 .*dns-probe/,
  ]);
  t.ok(est.findIndex((l) => l.includes('-j MARK')) > doneIn);
  t.equal(est.filter((l) => l.includes(`--mark ${hex(ESTABLISHED_MARK)}/${hex(MARK_MASK)}`) && l.includes('NFQUEUE')).length, 1);
  const out = chainRules(v4, 'VPSFW-OUT-ESTABLISHED');
  t.match(out.filter((l) => l.includes('-j MARK')), [/-p tcp -m multiport --sports 2222 .*payload rule leak/, /-p tcp -m multiport --dports 443 .*payload rule exfil/], "outbound: this server's port is the source, the remote one the destination");
  t.notOk(est.some((l) => /leak|exfil/.test(l)), 'outbound rules stay out of the inbound chains');
  t.match(chainRules(v4, 'VPSFW-OUT-JUDGE'), [/--sports 2222 .*-j NFQUEUE/, /--dports 443 .*-j NFQUEUE/], 'their new packets too (the SYN/ACK of an app on 2222 starts the stream)');
  t.notMatch(v4, /connbytes/, 'depth is counted by the agent, which marks the flow done');
});

t.test('ports by side and interfaces by direction', async (t) => {
  const m = (e: object, f: 4 | 6 = 4) => entryMatches({ direction: 'inbound', protocol: 'tcp', ...e } as Parameters<typeof entryMatches>[0], f);
  t.same(m({ localPorts: [{ from: 22, to: 22 }] }), ['-p tcp -m multiport --dports 22']);
  t.same(m({ remotePorts: [{ from: 53, to: 53 }] }), ['-p tcp -m multiport --sports 53']);
  t.same(m({ direction: 'outbound', localPorts: [{ from: 2222, to: 2222 }], remotePorts: [{ from: 1024, to: 65535 }] }), ['-p tcp -m multiport --sports 2222 -m multiport --dports 1024:65535']);
  t.same(m({ interfaces: ['eth0', 'eth1'] }), ['-p tcp -i eth0', '-p tcp -i eth1']);
  t.same(m({ direction: 'outbound', interfaces: ['eth0'] }), ['-p tcp -o eth0']);
  t.same(m({ source: [{ family: 6, address: '2001:db8::', prefix: 32 }] }), [], 'a rule whose sources are all of the other family has no line here');
  t.same(m({ protocol: 'icmpv6' }), [], 'ICMPv6 is not IPv4');
  t.same(m({ protocol: 'icmpv6' }, 6), ['-p ipv6-icmp']);
});

t.test('deny and allow networks go to their own family only; ban sets are never refilled', async (t) => {
  const { ipset } = renderKernel(policyOf(everything));
  const adds = lines(ipset).filter((l) => l.startsWith('add '));
  t.same(adds.filter((l) => l.includes('-deny4')), ['add vpsfw-deny4-new 203.0.113.0/24 -exist', 'add vpsfw-deny4-new 198.51.100.7/32 -exist']);
  t.same(adds.filter((l) => l.includes('-deny6')), ['add vpsfw-deny6-new 2001:db8:bad::/48 -exist']);
  t.same(adds.filter((l) => l.includes('-allow4')), ['add vpsfw-allow4-new 127.0.0.0/8 -exist', 'add vpsfw-allow4-new 198.51.100.0/24 -exist']);
  t.same(adds.filter((l) => l.includes('-allow6')), ['add vpsfw-allow6-new ::1/128 -exist', 'add vpsfw-allow6-new 2001:db8:2::/64 -exist']);
  t.notOk(adds.some((l) => l.includes('-ban')), 'the ban sets are never filled by a reload');
  t.notOk(lines(ipset).some((l) => /^(flush|destroy|swap)\b.*vpsfw-ban/.test(l)), 'nor flushed, swapped or destroyed');
});

t.test('sets are created idempotently with the right types and families', async (t) => {
  const { ipset } = renderKernel(policyOf(defaultPolicyDocument));
  const creates = lines(ipset).filter((l) => l.startsWith('create ') && !l.includes('-new '));
  t.equal(creates.length, 8);
  t.ok(creates.every((l) => l.endsWith(' -exist')));
  t.match(creates, [/^create vpsfw-ban4 hash:ip family inet timeout \d+ /, /^create vpsfw-bannet4 hash:net family inet timeout \d+ /, /^create vpsfw-deny4 hash:net family inet /, /^create vpsfw-allow4 hash:net family inet /]);
  t.match(creates.slice(4), [/^create vpsfw-ban6 hash:ip family inet6 timeout \d+ /, /^create vpsfw-bannet6 hash:net family inet6 timeout \d+ /, /^create vpsfw-deny6 /, /^create vpsfw-allow6 /]);
  t.match(ipset, /swap vpsfw-deny4-new vpsfw-deny4\ndestroy vpsfw-deny4-new\n/, 'deny refilled by swap');
});

t.test('a family without denied networks gets no deny rule: its lookup would find nothing', async (t) => {
  const v4only = renderKernel(policyOf({ version: 1, denyNetworks: ['203.0.113.0/24'] }));
  t.equal(lines(v4only.ipv4).filter((l) => l.includes('--match-set vpsfw-deny4')).length, 1, 'IPv4: one, in raw');
  t.notOk(v4only.ipv6.includes('vpsfw-deny6'), 'IPv6: none');
  t.match(v4only.ipset, /create vpsfw-deny6 /, 'the set is still there (and emptied), for a reload that fills it');
});

t.test('an allowlist of loopback networks alone gets no lookup: `-i lo` has returned those sources', async (t) => {
  const lookups = (doc: string, set: string) => lines(doc).filter((l) => l.includes(`--match-set ${set} `)).length;
  const loopback = renderKernel(policyOf({ version: 1, bans: { allowlist: ['127.0.0.0/8', '127.1.0.0/16', '0:0:0:0:0:0:0:1'] } }));
  t.equal(lookups(loopback.ipv4, 'vpsfw-allow4'), 0, 'IPv4: none');
  t.equal(lookups(loopback.ipv6, 'vpsfw-allow6'), 0, 'IPv6: none');
  const wider = renderKernel(policyOf({ version: 1, bans: { allowlist: ['127.0.0.0/7', '::1/128'] } }));
  t.ok(lookups(wider.ipv4, 'vpsfw-allow4') > 0, '127.0.0.0/7 reaches past loopback');
  t.equal(lookups(wider.ipv6, 'vpsfw-allow6'), 0, 'IPv6 still loopback alone');
});

t.test('IPv6 neighbour discovery returns before anything drops it; nothing else from :: is judged', async (t) => {
  const v6 = chainRules(renderKernel(policyOf(everything)).ipv6, 'VPSFW-INPUT');
  const ndp = v6.map((l, i) => (l.includes('-p ipv6-icmp -m icmp6 --icmpv6-type') && l.endsWith('-j RETURN') ? i : -1)).filter((i) => i >= 0);
  t.equal(ndp.length, 9);
  const unspecified = v6.findIndex((l) => l.includes('-s ::/128') && l.endsWith('-j DROP'));
  t.ok(unspecified > Math.max(...ndp), 'duplicate address detection from :: still passes');
  t.ok(unspecified < v6.findIndex((l) => l.includes('vpsfw: rule ')), 'and comes before every rule: no judge, no ban');
  t.ok(v6.findIndex((l) => l.includes('-g VPSFW-ESTABLISHED')) < ndp[0]!, 'ND is untracked: it never takes the fast path');
  t.notMatch(renderKernel(policyOf(everything)).ipv4, /ipv6-icmp|icmp6/, 'no IPv6 matches in the IPv4 document');
});

t.test('OUTPUT is judged only when the policy says something of outbound traffic', async (t) => {
  const judged = (doc: PolicyInput) => chainRules(renderKernel(policyOf(doc)).ipv4, 'VPSFW-OUTPUT').length > 0;
  t.notOk(judged(defaultPolicyDocument), 'default policy: OUTPUT empty');
  t.ok(judged({ version: 1, defaults: { outbound: 'drop' } }), 'default outbound not accept');
  t.ok(judged({ version: 1, rules: [{ name: 'r', action: 'drop', direction: 'outbound' }] }), 'an outbound rule');
  t.ok(judged({ version: 1, rateLimits: [{ name: 'r', direction: 'outbound', rate: 1, burst: 1 }] }), 'an outbound rate limit');
  t.ok(judged({ version: 1, payloadRules: [{ name: 'p', direction: 'outbound', protocol: 'tcp', localPorts: [1], pattern: { text: 'x' }, action: 'drop' }] }), 'an outbound payload rule');
  t.notOk(judged({ version: 1, payloadRules: [{ name: 'p', protocol: 'tcp', localPorts: [1], pattern: { text: 'x' }, action: 'drop' }] }), 'an inbound payload rule does not');
  const out = chainRules(renderKernel(policyOf(everything)).ipv4, 'VPSFW-OUTPUT');
  t.match(out.filter((l) => l.includes('vpsfw: rule')), [/-p tcp -m multiport --dports 25 .*-g VPSFW-OUT-REJECT$/]);
  t.match(out.at(-1), /default outbound.*-g VPSFW-OUT-JUDGE$/);
});

t.test('render is deterministic and does not depend on object identity', async (t) => {
  const a = renderKernel(policyOf(everything));
  const b = renderKernel(policyOf(structuredClone(everything)));
  t.same(a, b);
});

t.test('multiport lists hold at most 15 slots, a range counting two', async (t) => {
  const ports = Array.from({ length: 16 }, (_, i) => ({ from: 1000 + i, to: 1000 + i }));
  t.same(multiportLists(ports).map((l) => l.split(',').length), [15, 1]);
  t.same(multiportLists([{ from: 1, to: 2 }, ...ports.slice(0, 14)]), ['1:2,' + ports.slice(0, 13).map((p) => p.from).join(','), '1013']);
});

t.test('audit mode: the same judging, nothing enforced', async (t) => {
  const audit = renderKernel(policyOf({ ...everything, mode: 'audit' }));
  const enforce = renderKernel(policyOf(everything));
  for (const family of ['ipv4', 'ipv6'] as const) {
    t.notMatch(audit[family], /-j DROP\b/, `${family}: nothing dropped`);
    t.notMatch(audit[family], /--set-xmark 0x1000000\//, `${family}: nothing marked for rejection (VPSFW-REJECT is left with nothing to do)`);
    t.same(chainRules(audit[family], 'VPSFW-JUDGE'), chainRules(enforce[family], 'VPSFW-JUDGE'), `${family}: the agent is shown what it would judge`);
    t.match(chainRules(audit[family], 'VPSFW-OBSERVE'), [/^-A VPSFW-OBSERVE -m hashlimit .*-j NFLOG/], `${family}: every refused packet is shown (a would-drop)`);
    t.equal(chainRules(audit[family], 'VPSFW-OBSERVE').length, 1);
    t.match(chainRules(audit[family], 'VPSFW-INPUT').find((l) => l.includes('denied network')), /-g VPSFW-REFUSE-DROP$/, `${family}: a denied network is a would-drop, judged in mangle`);
    t.match(audit[family], /AUDIT: nothing enforced/);
  }
  t.match(chainRules(audit.ipv4, 'VPSFW-OUTPUT').find((l) => l.includes('rule smtp-out')), /-g VPSFW-REFUSE-DROP$/, 'an outbound refusal is shown too');
});
