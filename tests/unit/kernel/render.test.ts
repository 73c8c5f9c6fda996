// Policy → kernel plan: snapshots of the whole documents (default policy and one that uses every
// feature), plus the invariants an operator relies on: fail-open bypasses the queue and fail-closed
// does not, each family gets only its own networks, only what needs judging is queued, established
// packets take the short path and bans still cut them, and the same policy always renders the
// same text.
import t from 'tap';
import { parsePolicy } from '../../../agent/src/policy/load.js';
import { defaultPolicyDocument } from '../../../agent/src/policy/defaults.js';
import type { PolicyInput } from '../../../agent/src/policy/schema.js';
import { multiportLists, renderFamily, renderKernel } from '../../../agent/src/kernel/render.js';
import { ESTABLISHED_MARK, REJECT_MARK } from '../../../agent/src/kernel/names.js';

const policyOf = (doc: PolicyInput) => parsePolicy(doc, 'test').policy;

/** Every feature the renderer knows, fail-closed. */
const everything: PolicyInput = {
  version: 1,
  queue: { num: 7, failMode: 'closed' },
  defaults: { inbound: 'drop', outbound: 'accept' },
  denyNetworks: ['203.0.113.0/24', '2001:db8:bad::/48', '198.51.100.7'],
  rules: [
    { name: 'ssh-admins', action: 'accept', protocol: 'tcp', ports: [22], source: ['192.0.2.0/24', '2001:db8:1::/64'] },
    { name: 'web', action: 'accept', protocol: 'tcp', ports: [80, 443, '8000-8100'] },
    { name: 'smtp-out', action: 'reject', direction: 'outbound', protocol: 'tcp', ports: [25] },
  ],
  payloadRules: [
    { name: 'no-passwd', protocol: 'tcp', ports: [80, 8080], pattern: { text: '/etc/passwd' }, action: 'drop' },
    { name: 'dns-probe', protocol: 'udp', ports: [53], pattern: { hex: 'de ad' }, action: 'log', depth: 512 },
    { name: 'exfil', protocol: 'tcp', ports: [443], direction: 'outbound', pattern: { text: 'SECRET' }, action: 'reject' },
  ],
  bans: { allowlist: ['127.0.0.0/8', '::1/128', '198.51.100.0/24', '2001:db8:2::/64'] },
};

const lines = (doc: string) => doc.split('\n');
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

t.test('documents declare and fill only our chains, never jump from built-in chains', async (t) => {
  const plan = renderKernel(policyOf(everything));
  for (const doc of [plan.ipv4, plan.ipv6]) {
    t.match(doc, /^# vpsfw[^\n]*\n\*filter\n:VPSFW-INPUT - \[0:0\]\n:VPSFW-ESTABLISHED - \[0:0\]\n:VPSFW-OUTPUT - \[0:0\]\n/, 'header declares our three chains');
    t.ok(doc.endsWith('COMMIT\n'), 'ends with COMMIT');
    const other = lines(doc).filter((l) => l !== '' && !l.startsWith('#') && !/^(\*filter|COMMIT|:VPSFW-(INPUT|ESTABLISHED|OUTPUT) |-A VPSFW-(INPUT|ESTABLISHED|OUTPUT) )/.test(l));
    t.same(other, [], 'nothing but our chains');
    t.notMatch(doc, /-j ACCEPT/, 'what we let by is RETURNed to the rules after ours, never accepted');
  }
});

t.test('renderFamily is one family of renderKernel', async (t) => {
  const policy = policyOf(everything);
  const plan = renderKernel(policy);
  t.equal(renderFamily(policy, 4), plan.ipv4);
  t.equal(renderFamily(policy, 6), plan.ipv6);
});

t.test('fail-open queues with --queue-bypass, fail-closed without', async (t) => {
  const open = renderKernel(policyOf({ ...everything, queue: { num: 7, failMode: 'open' } }));
  const closed = renderKernel(policyOf(everything));
  for (const family of ['ipv4', 'ipv6'] as const) {
    t.ok(queueRules(open[family]).length > 0);
    t.ok(queueRules(open[family]).every((l) => l.endsWith('--queue-num 7 --queue-bypass')), `${family} open: every queue rule bypasses`);
    t.ok(queueRules(closed[family]).length > 0);
    t.ok(queueRules(closed[family]).every((l) => l.endsWith('--queue-num 7')), `${family} closed: no queue rule bypasses`);
  }
});

t.test('deny and allow networks go to their own family only', async (t) => {
  const { ipset } = renderKernel(policyOf(everything));
  const adds = lines(ipset).filter((l) => l.startsWith('add '));
  t.same(
    adds.filter((l) => l.includes('-deny4')),
    ['add vpsfw-deny4-new 203.0.113.0/24 -exist', 'add vpsfw-deny4-new 198.51.100.7/32 -exist'],
  );
  t.same(adds.filter((l) => l.includes('-deny6')), ['add vpsfw-deny6-new 2001:db8:bad::/48 -exist']);
  t.same(
    adds.filter((l) => l.includes('-allow4')),
    ['add vpsfw-allow4-new 127.0.0.0/8 -exist', 'add vpsfw-allow4-new 198.51.100.0/24 -exist'],
  );
  t.same(adds.filter((l) => l.includes('-allow6')), ['add vpsfw-allow6-new ::1/128 -exist', 'add vpsfw-allow6-new 2001:db8:2::/64 -exist']);
  t.notOk(adds.some((l) => l.includes('-ban')), 'the ban set is never filled by a reload');
  t.notOk(lines(ipset).some((l) => /^(flush|destroy|swap)\b.*vpsfw-ban/.test(l)), 'nor flushed, swapped or destroyed');
});

t.test('sets are created idempotently with the right types and families', async (t) => {
  const { ipset } = renderKernel(policyOf(defaultPolicyDocument));
  const creates = lines(ipset).filter((l) => l.startsWith('create ') && !l.includes('-new '));
  t.equal(creates.length, 6);
  t.ok(creates.every((l) => l.endsWith(' -exist')));
  t.match(creates, [/^create vpsfw-ban4 hash:ip family inet timeout \d+ /, /^create vpsfw-deny4 hash:net family inet /, /^create vpsfw-allow4 hash:net family inet /]);
  t.match(creates.slice(3), [/^create vpsfw-ban6 hash:ip family inet6 timeout \d+ /, /^create vpsfw-deny6 hash:net family inet6 /, /^create vpsfw-allow6 hash:net family inet6 /]);
  t.match(ipset, /swap vpsfw-deny4-new vpsfw-deny4\ndestroy vpsfw-deny4-new\n/, 'deny refilled by swap');
});

t.test('VPSFW-INPUT runs its stages in order', async (t) => {
  const v6 = chainRules(renderKernel(policyOf(everything)).ipv6, 'VPSFW-INPUT');
  const at = (re: RegExp) => {
    const i = v6.findIndex((l) => re.test(l));
    t.not(i, -1, `has ${re}`);
    return i;
  };
  const order = [
    at(/--mark 0x560000\/0xff0000 .*tcp-reset/),
    at(/-i lo -j RETURN/),
    at(/--ctstate RELATED,ESTABLISHED .*-g VPSFW-ESTABLISHED$/),
    at(/vpsfw-allow6 src .*-j RETURN/),
    at(/--icmpv6-type 135 -j RETURN/),
    at(/--ctstate INVALID -j DROP/),
    at(/! --syn -m conntrack --ctstate NEW .*-j DROP/),
    at(/vpsfw-ban6 src .*-j DROP/),
    at(/vpsfw-deny6 src .*-j DROP/),
    at(/judged by the agent.*-j NFQUEUE/),
  ];
  t.same(order, [...order].sort((a, b) => a - b), 'in the documented order');
  t.equal(v6.at(-1), v6[order.at(-1)!], 'the queue rule is last');
});

t.test('the fast path: established packets pass two reject rules and loopback, then their own short chain', async (t) => {
  for (const doc of [everything, defaultPolicyDocument]) {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const plan = renderKernel(policyOf(doc))[family];
      const input = chainRules(plan, 'VPSFW-INPUT');
      t.match(input[3], /^-A VPSFW-INPUT -m conntrack --ctstate RELATED,ESTABLISHED .*-g VPSFW-ESTABLISHED$/, `${family}: goto as the fourth rule (its end returns past our jump)`);
      t.notOk(input.slice(4).some((l) => l.includes('ESTABLISHED')), `${family}: nothing after it is for established packets`);
      const est = chainRules(plan, 'VPSFW-ESTABLISHED');
      const allow = family === 'ipv4' ? 'vpsfw-allow4' : 'vpsfw-allow6';
      // The default allowlist is loopback alone, which `-i lo` has returned: nothing to look up.
      const unless = doc === everything ? ` -m set ! --match-set ${allow} src` : '';
      const drops = [new RegExp(`--match-set vpsfw-ban${family.at(-1)} src${unless} -m comment .*-j DROP$`)];
      if (doc === everything) drops.push(new RegExp(`--match-set vpsfw-deny${family.at(-1)} src${unless} -m comment .*-j DROP$`));
      t.match(est.slice(0, drops.length), drops, `${family}: a ban or a denied network cuts open flows, unless allowlisted`);
      t.ok(est.filter((l) => / -j (MARK|NFQUEUE)/.test(l) && !l.includes('payload inspection')).every((l) => l.includes(`${unless} -m comment`)), `${family}: allowlisted flows are never marked or queued`);
      t.notOk(est.some((l) => l.includes('-j RETURN')), `${family}: the end of the chain is the RETURN`);
    }
  }
});

t.test('a family without denied networks gets no deny rule: its lookup would find nothing', async (t) => {
  const v4only = renderKernel(policyOf({ version: 1, denyNetworks: ['203.0.113.0/24'] }));
  t.equal(lines(v4only.ipv4).filter((l) => l.includes('--match-set vpsfw-deny4')).length, 2, 'IPv4: new and established');
  t.notOk(v4only.ipv6.includes('vpsfw-deny6'), 'IPv6: none');
  t.notOk(renderKernel(policyOf(defaultPolicyDocument)).ipv4.includes('vpsfw-deny4'), 'the default policy denies nothing');
  t.match(v4only.ipset, /create vpsfw-deny6 /, 'the set is still there (and emptied), for a reload that fills it');
});

t.test('an allowlist of loopback networks alone gets no lookup: `-i lo` has returned those sources', async (t) => {
  const lookups = (doc: string, set: string) => lines(doc).filter((l) => l.includes(`--match-set ${set} `)).length;
  const loopback = renderKernel(policyOf({ version: 1, bans: { allowlist: ['127.0.0.0/8', '127.1.0.0/16', '0:0:0:0:0:0:0:1'] } }));
  t.equal(lookups(loopback.ipv4, 'vpsfw-allow4'), 0, 'IPv4: none');
  t.equal(lookups(loopback.ipv6, 'vpsfw-allow6'), 0, 'IPv6: none');
  t.match(loopback.ipset, /add vpsfw-allow4-new 127\.1\.0\.0\/16 -exist/, 'the set is still filled (a ban is refused from the policy, not the set)');
  t.equal(lookups(renderKernel(policyOf(defaultPolicyDocument)).ipv4, 'vpsfw-allow4'), 0, 'the default policy: none');
  // Wider than loopback, or beside it: the lookup is back, in each family for its own entries.
  const wider = renderKernel(policyOf({ version: 1, bans: { allowlist: ['127.0.0.0/7', '::1/128'] } }));
  t.ok(lookups(wider.ipv4, 'vpsfw-allow4') > 0, '127.0.0.0/7 reaches past loopback');
  t.equal(lookups(wider.ipv6, 'vpsfw-allow6'), 0, 'IPv6 still loopback alone');
  const beside = renderKernel(policyOf({ version: 1, bans: { allowlist: ['::1/128', '::2/128'] } }));
  t.match(chainRules(beside.ipv6, 'VPSFW-INPUT'), [/./, /./, /./, /./, /vpsfw-allow6 src .*-j RETURN$/], 'IPv6: ::2 is looked up, right after the fast path');
  t.equal(lookups(beside.ipv4, 'vpsfw-allow4'), 0, 'IPv4: no entries, no lookup');
});

t.test('IPv6 neighbour discovery returns before any rule that drops or queues', async (t) => {
  const v6 = chainRules(renderKernel(policyOf(everything)).ipv6, 'VPSFW-INPUT');
  const ndp = v6.map((l, i) => (l.includes('-p ipv6-icmp -m icmp6 --icmpv6-type') && l.endsWith('-j RETURN') ? i : -1)).filter((i) => i >= 0);
  t.equal(ndp.length, 9);
  const firstDrop = v6.findIndex((l) => / -j (DROP|NFQUEUE|REJECT)/.test(l) && !l.includes('0x560000'));
  t.ok(Math.max(...ndp) < firstDrop, 'every ND/MLD type returns first (the reject rules match only marked, queued packets)');
  t.ok(v6.findIndex((l) => l.includes('-g VPSFW-ESTABLISHED')) < ndp[0]!, 'ND is untracked: it never takes the fast path');
});

t.test('reject verdicts: the marked packet is rejected by the kernel, per family', async (t) => {
  const plan = renderKernel(policyOf(everything));
  const mark = `0x${REJECT_MARK.toString(16)}`;
  for (const chain of ['VPSFW-INPUT', 'VPSFW-OUTPUT']) {
    t.match(chainRules(plan.ipv4, chain).slice(0, 2), [
      new RegExp(`-p tcp -m mark --mark ${mark}/0xff0000 .*-j REJECT --reject-with tcp-reset$`),
      new RegExp(`-m mark --mark ${mark}/0xff0000 .*-j REJECT --reject-with icmp-port-unreachable$`),
    ]);
    t.match(chainRules(plan.ipv6, chain)[1], /icmp6-port-unreachable$/);
  }
  t.notMatch(plan.ipv4, /ipv6-icmp|icmp6/, 'no IPv6 matches in the IPv4 document');
});

t.test('payload rules: established packets on their ports are marked and queued; depth adds connbytes', async (t) => {
  const v4 = renderKernel(policyOf(everything)).ipv4;
  const mark = `0x${ESTABLISHED_MARK.toString(16)}/0xff0000`;
  const est = chainRules(v4, 'VPSFW-ESTABLISHED');
  t.match(est.filter((l) => l.includes('-j MARK')), [
    new RegExp(`^-A VPSFW-ESTABLISHED -p tcp -m multiport --dports 80,8080 -m conntrack --ctstate ESTABLISHED -m set ! --match-set vpsfw-allow4 src -m comment --comment "vpsfw: payload rule no-passwd" -j MARK --set-xmark ${mark}$`),
    /^-A VPSFW-ESTABLISHED -p udp -m multiport --dports 53 -m conntrack --ctstate ESTABLISHED -m connbytes --connbytes 0:512 --connbytes-dir original --connbytes-mode bytes .*-j MARK/,
  ]);
  t.equal(est.filter((l) => l.includes(`-m mark --mark ${mark}`) && l.includes('NFQUEUE')).length, 1, 'marked packets queued');
  t.ok(est.findIndex((l) => l.includes('-j MARK')) > est.findIndex((l) => l.includes('denied network')), 'after the ban and deny drops');
  const input = chainRules(v4, 'VPSFW-INPUT');
  t.notOk(input.some((l) => l.includes('-j MARK')), 'not in VPSFW-INPUT');
  const output = chainRules(v4, 'VPSFW-OUTPUT');
  t.match(output.filter((l) => l.includes('-j MARK')), [/-p tcp -m multiport --dports 443 .*payload rule exfil/]);
  t.notOk([...input, ...est].some((l) => l.includes('exfil')), 'outbound rules stay out of the inbound chains');
});

t.test('no payload rules: no established packet is queued', async (t) => {
  const v4 = renderKernel(policyOf(defaultPolicyDocument)).ipv4;
  t.notMatch(v4, /--ctstate ESTABLISHED |-j MARK|connbytes|0x570000/);
});

t.test('OUTPUT queues only when the policy judges outbound traffic', async (t) => {
  const queued = (doc: PolicyInput) => queueRules(chainRules(renderKernel(policyOf(doc)).ipv4, 'VPSFW-OUTPUT').join('\n')).length > 0;
  t.same(chainRules(renderKernel(policyOf(defaultPolicyDocument)).ipv4, 'VPSFW-OUTPUT'), [], 'default policy: OUTPUT empty (nothing queued there can carry the reject mark)');
  t.ok(queued({ version: 1, defaults: { outbound: 'drop' } }), 'default outbound not accept');
  t.ok(queued({ version: 1, rules: [{ name: 'r', action: 'drop', direction: 'outbound' }] }), 'an outbound rule');
  t.ok(queued({ version: 1, rateLimits: [{ name: 'r', direction: 'outbound', rate: 1, burst: 1 }] }), 'an outbound rate limit');
  t.ok(queued({ version: 1, payloadRules: [{ name: 'p', direction: 'outbound', protocol: 'tcp', ports: [1], pattern: { text: 'x' }, action: 'drop' }] }), 'an outbound payload rule');
  t.notOk(queued({ version: 1, payloadRules: [{ name: 'p', protocol: 'tcp', ports: [1], pattern: { text: 'x' }, action: 'drop' }] }), 'an inbound payload rule does not');
});

t.test('render is deterministic and does not depend on object identity', async (t) => {
  const a = renderKernel(policyOf(everything));
  const b = renderKernel(policyOf(structuredClone(everything)));
  t.same(a, b);
  t.equal(JSON.stringify(renderKernel(policyOf(everything))), JSON.stringify(a));
});

t.test('multiport lists hold at most 15 slots, a range counting two', async (t) => {
  const ports = Array.from({ length: 16 }, (_, i) => ({ from: 1000 + i, to: 1000 + i }));
  t.same(multiportLists(ports).map((l) => l.split(',').length), [15, 1]);
  t.same(multiportLists([{ from: 1, to: 2 }, ...ports.slice(0, 14)]), ['1:2,' + ports.slice(0, 13).map((p) => p.from).join(','), '1013']);
});

// CrowdSec's Range decisions (interim, until the kernel layout of this wave): a network ban set and
// its drop rules only when the policy follows a LAPI; any other policy pays no lookup for them.
t.test('network bans: rendered only with a CrowdSec bouncer key', async (t) => {
  const plain = renderKernel(parsePolicy({ version: 1 }, 't').policy);
  t.notMatch(plain.ipv4 + plain.ipv6 + plain.ipset, 'bannet');
  const cs = renderKernel(parsePolicy({ version: 1, crowdsec: { url: 'http://198.18.0.1:8080/', bouncerKeyFile: '/k' } }, 't').policy);
  t.match(cs.ipset, /create vpsfw-bannet4 hash:net family inet timeout \d+ maxelem \d+ -exist/);
  t.match(cs.ipset, /create vpsfw-bannet6 hash:net family inet6 timeout/);
  t.match(cs.ipv4, /-A VPSFW-INPUT -m set --match-set vpsfw-bannet4 src .*-j DROP/);
  t.match(cs.ipv4, /-A VPSFW-ESTABLISHED -m set --match-set vpsfw-bannet4 src .*-j DROP/);
  t.match(cs.ipv6, /-A VPSFW-INPUT -m set --match-set vpsfw-bannet6 src .*-j DROP/);
  const reportOnly = renderKernel(parsePolicy({ version: 1, crowdsec: { url: 'http://198.18.0.1:8080/', machine: { login: 'w', passwordFile: '/p' } } }, 't').policy);
  t.notMatch(reportOnly.ipv4, 'bannet', 'a machine alone pulls no decisions');
});
