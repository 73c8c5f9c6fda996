// Policy → kernel plan, as text: the iptables-restore / ip6tables-restore documents for our own
// chains and the ipset script for our sets. Pure and deterministic, so `vpsfw render` shows
// exactly what `vpsfw run` and `vpsfw apply` apply, and NixOS can build it into the store.
// docs/architecture.md draws the layout; the why of each rule is next to it here.
import { BlockList } from 'node:net';
import type { Direction, PayloadRule, Policy, RateLimit, Rule } from '../policy/schema.js';
import type { Cidr, PortRange } from '../policy/units.js';
import { formatCidr } from '../policy/units.js';
import {
  CHAINS,
  CONNMARK_DONE_IN,
  CONNMARK_DONE_OUT,
  DONE_MARK,
  ESTABLISHED_MARK,
  MARK_MASK,
  OWN_MARK,
  PASS_MARK,
  REJECT_MARK,
  setNames,
  TABLE_CHAINS,
  type Family,
  type Table,
} from './names.js';

export interface KernelPlan {
  /** iptables-restore --noflush document: declares (so flushes) and fills our chains only, in the raw, mangle and filter tables. */
  ipv4: string;
  ipv6: string;
  /** ipset restore script: creates our sets if missing, refills deny/allow atomically, never touches bans. */
  ipset: string;
}

/** Sets are created with fixed parameters so `create -exist` never conflicts on reload; the ban store enforces bans.maxEntries. */
const SET_MAXELEM = 1_048_576;
const DEFAULT_BAN_TIMEOUT_S = 3600;
/** One iptables multiport match takes at most 15 ports, a range counting as two. */
const MULTIPORT_SLOTS = 15;
/** Bytes of a refused packet the detectors see: the headers (IPv6 with a few extension headers, TCP with options). */
const OBSERVED_BYTES = 192;
/**
 * ICMPv6 that IPv6 itself needs: multicast listener query/report/done (130-132, 143: untracked by
 * conntrack, so they would otherwise be judged), router solicitation/advertisement, neighbour
 * solicitation/advertisement, redirect (133-137). Some come from `::` (duplicate address detection).
 */
const NDP_TYPES = [130, 131, 132, 133, 134, 135, 136, 137, 143];

/**
 * Neighbour discovery (router and neighbour solicitation and advertisement) passes raw even from a
 * banned address: a ban must not make a neighbour, the router above all, unreachable at the link.
 */
const ND_TYPES = [133, 134, 135, 136];

const ECHO_REQUEST = { 4: '-p icmp -m icmp --icmp-type 8', 6: '-p ipv6-icmp -m icmp6 --icmpv6-type 128' } as const;
const PROTOCOL = { tcp: { 4: '-p tcp', 6: '-p tcp' }, udp: { 4: '-p udp', 6: '-p udp' }, icmp: { 4: '-p icmp', 6: null }, icmpv6: { 4: null, 6: '-p ipv6-icmp' }, any: { 4: '', 6: '' } } as const;

/**
 * Loopback sources come in on lo alone (the kernel drops them as martians on any other interface,
 * unless route_localnet is set) and `-i lo` has returned those already: an allowlist of loopback
 * networks, the default, needs no set lookup of its own, which every new packet would pay.
 */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
const beyondLoopback = (c: Cidr) => c.prefix < (c.family === 4 ? 8 : 128) || !LOOPBACK.check(c.address, c.family === 4 ? 'ipv4' : 'ipv6');

const hex = (n: number) => `0x${n.toString(16)}`;
const markIs = (mark: number) => `-m mark --mark ${hex(mark)}/${hex(MARK_MASK)}`;
const setMark = (mark: number) => `-j MARK --set-xmark ${hex(mark)}/${hex(MARK_MASK)}`;
const comment = (text: string) => `-m comment --comment "vpsfw: ${text}"`;

export function renderKernel(policy: Policy): KernelPlan {
  return { ipv4: renderFamily(policy, 4), ipv6: renderFamily(policy, 6), ipset: renderSets(policy) };
}

/** Groups port ranges into multiport lists of at most 15 slots. */
export function multiportLists(ports: readonly PortRange[]): string[] {
  const lists: string[][] = [];
  let slots = 0;
  for (const p of ports) {
    const need = p.from === p.to ? 1 : 2;
    if (lists.length === 0 || slots + need > MULTIPORT_SLOTS) {
      lists.push([]);
      slots = 0;
    }
    lists[lists.length - 1]!.push(p.from === p.to ? `${p.from}` : `${p.from}:${p.to}`);
    slots += need;
  }
  return lists.map((l) => l.join(','));
}

interface Matchable {
  direction: Direction;
  protocol: Rule['protocol'];
  localPorts?: readonly PortRange[] | undefined;
  remotePorts?: readonly PortRange[] | undefined;
  source?: readonly Cidr[] | undefined;
  destination?: readonly Cidr[] | undefined;
  interfaces?: readonly string[] | undefined;
}

/**
 * The iptables matches for an entry, one string per line it needs (addresses, interfaces and port
 * lists multiply), or none when it cannot match this family. This server's ports are the
 * destination inbound and the source outbound.
 */
export function entryMatches(e: Matchable, family: Family): string[] {
  const proto = PROTOCOL[e.protocol][family];
  if (proto === null) return [];
  const inbound = e.direction === 'inbound';
  const choices = [
    [proto],
    addresses('-s', e.source, family),
    addresses('-d', e.destination, family),
    e.interfaces ? e.interfaces.map((i) => `${inbound ? '-i' : '-o'} ${i}`) : [''],
    ports(inbound ? '--dports' : '--sports', e.localPorts),
    ports(inbound ? '--sports' : '--dports', e.remotePorts),
  ];
  return choices.reduce<string[]>((lines, options) => lines.flatMap((l) => options.map((o) => join(l, o))), ['']);
}

function addresses(flag: string, cidrs: readonly Cidr[] | undefined, family: Family): string[] {
  if (cidrs === undefined) return [''];
  return cidrs.filter((c) => c.family === family).map((c) => `${flag} ${formatCidr(c)}`);
}

function ports(flag: string, ranges: readonly PortRange[] | undefined): string[] {
  return ranges === undefined ? [''] : multiportLists(ranges).map((l) => `-m multiport ${flag} ${l}`);
}

const join = (...parts: string[]) => parts.filter((p) => p !== '').join(' ');

/** Outbound traffic is judged only when the policy says something of it; otherwise OUTPUT costs one jump to an empty chain. */
export function judgesOutbound(p: Policy): boolean {
  return (
    p.defaults.outbound !== 'accept' ||
    p.rules.some((r) => r.direction === 'outbound') ||
    p.rateLimits.some((r) => r.direction === 'outbound') ||
    p.payloadRules.some((r) => r.direction === 'outbound')
  );
}

/** What the engine judges beyond the static rules, by direction: where the kernel must queue. */
function judged(p: Policy, direction: Direction, family: Family): string[] {
  const d = p.detectors;
  const of = <T extends RateLimit | PayloadRule>(list: readonly T[]) => list.filter((x) => x.direction === direction);
  const lines = [...of(p.rateLimits), ...of(p.payloadRules)].flatMap((e) => entryMatches(e, family).map((m) => join(m, comment(`judged by ${'pattern' in e ? 'payload rule' : 'rate limit'} ${e.name}`))));
  if (direction === 'inbound') {
    if (d.synFlood.enabled) lines.push(join('-p tcp --syn', comment('judged by synFlood')));
    if (d.icmpFlood.enabled || d.oversizedIcmp.enabled) lines.push(join(ECHO_REQUEST[family], comment('judged by icmpFlood, oversizedIcmp')));
  }
  return lines;
}

/** What the detectors must see of the traffic the static rules refuse (inbound); in audit mode, all of it (each is a would-drop). */
function observed(p: Policy, family: Family): string[] {
  if (p.mode === 'audit') return [''];
  const d = p.detectors;
  const lines: string[] = [];
  // New TCP here is a SYN: the rest was dropped before the rules.
  if (d.portScan.enabled || d.synFlood.enabled) lines.push('-p tcp');
  if (d.portScan.enabled) lines.push('-p udp');
  if (d.icmpFlood.enabled || d.oversizedIcmp.enabled) lines.push(ECHO_REQUEST[family]);
  return lines;
}

function targetOf(action: Rule['action'], direction: Direction, audit: boolean): string {
  if (direction === 'inbound') return action === 'accept' ? `-g ${CHAINS.judge}` : action === 'drop' ? `-g ${CHAINS.refuseDrop}` : `-g ${CHAINS.refuseReject}`;
  // In audit mode an outbound refusal is shown to the agent (a would-drop) and goes on.
  if (audit && action !== 'accept') return `-g ${CHAINS.refuseDrop}`;
  return action === 'accept' ? `-g ${CHAINS.outJudge}` : action === 'drop' ? '-j DROP' : `-g ${CHAINS.outReject}`;
}

/** The static rules of one direction in policy order, then the default: the kernel decides them. */
function staticRules(policy: Policy, direction: Direction, family: Family, chain: string): string[] {
  const audit = policy.mode === 'audit';
  const lines = policy.rules
    .filter((r) => r.direction === direction)
    .flatMap((r) => entryMatches(r, family).map((m) => `-A ${chain} ${join(m, comment(`rule ${r.name}`), targetOf(r.action, direction, audit))}`));
  lines.push(`-A ${chain} ${comment(`default ${direction}`)} ${targetOf(policy.defaults[direction], direction, audit)}`);
  return lines;
}

/** Names a hashlimit table by its parameters: a table of the same name keeps its first parameters until no rule uses it. */
const hashlimitName = (what: string, family: Family, rate: number, burst: number) => `v${what}${family}-${rate}-${burst}`.slice(0, 31);

function perSourceBound(policy: Policy, family: Family, what: 'q' | 'o', action: string): string {
  const { rate, burst } = policy.queue.perSource;
  return `-m hashlimit --hashlimit-${what === 'q' ? 'above' : 'upto'} ${rate}/sec --hashlimit-burst ${burst} --hashlimit-mode srcip --hashlimit-name ${hashlimitName(what, family, rate, burst)} ${action}`;
}

/**
 * In audit mode nothing is enforced: raw drops nothing (no ban reaches the kernel, and a denied
 * network is judged in mangle as a would-drop), the refusal chains show every packet to the agent
 * and let it go on, the per-source bound and the invalid-state drops are left out, and the
 * agent's verdicts are all accepts. Everything else is rendered as in enforce mode, so the agent
 * sees exactly what it would judge.
 */
export function renderFamily(policy: Policy, family: Family): string {
  const audit = policy.mode === 'audit';
  const sets = setNames(family);
  const queue = `-j NFQUEUE --queue-num ${policy.queue.num}${policy.queue.failMode === 'open' ? ' --queue-bypass' : ''}`;
  const allows = policy.bans.allowlist.some((c) => c.family === family && beyondLoopback(c));
  // Evaluated only after another match of the rule succeeded, so it costs the fast path nothing.
  const notAllowed = allows ? ` -m set ! --match-set ${sets.allow} src` : '';
  // The deny set holds this policy's networks and nothing else (the same apply fills it): with
  // none in this family its rule could match nothing, so it is left out, lookup and all.
  const denies = policy.denyNetworks.some((c) => c.family === family);
  const inboundPayload = policy.payloadRules.filter((r) => r.direction === 'inbound');
  const outboundPayload = policy.payloadRules.filter((r) => r.direction === 'outbound');
  const echo = policy.detectors.icmpFlood.enabled || policy.detectors.oversizedIcmp.enabled;
  const { input, established, judge, refuseDrop, refuseReject, pass, doneIn } = CHAINS;

  const raw = [
    `-A ${CHAINS.raw} -i lo -j RETURN`,
    ...(family === 6 ? ND_TYPES.map((t) => `-A ${CHAINS.raw} -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j RETURN`) : []),
    // Before connection tracking: a banned source's flood creates no conntrack entry, and cuts its open flows too.
    ...(audit
      ? []
      : [
          `-A ${CHAINS.raw} -m set --match-set ${sets.ban} src${notAllowed} ${comment('banned')} -j DROP`,
          `-A ${CHAINS.raw} -m set --match-set ${sets.banNet} src${notAllowed} ${comment('banned network')} -j DROP`,
          ...(denies ? [`-A ${CHAINS.raw} -m set --match-set ${sets.deny} src${notAllowed} ${comment('denied network')} -j DROP`] : []),
        ]),
  ];
  const enforced = (line: string) => (audit ? [] : [line]);

  const observe = observed(policy, family);
  const mangle = [
    // Back from the agent: accepted (and maybe inspected enough), so it goes on past our jump.
    `-A ${input} ${markIs(PASS_MARK)} -g ${pass}`,
    `-A ${input} ${markIs(DONE_MARK)} -g ${doneIn}`,
    `-A ${input} ${markIs(REJECT_MARK)} ${comment('to be rejected in filter')} -j RETURN`,
    `-A ${input} ${markIs(OWN_MARK)} -j RETURN`,
    `-A ${input} -i lo -j RETURN`,
    ...policy.trustedInterfaces.map((i) => `-A ${input} -i ${i} ${comment('trusted interface')} -j RETURN`),
    // Established and related packets go (goto: the end of that chain returns past our jump) to a
    // short chain of their own; the rest below sees only what opens a flow or belongs to none.
    `-A ${input} -m conntrack --ctstate RELATED,ESTABLISHED ${comment('fast path')} -g ${established}`,
    ...(allows ? [`-A ${input} -m set --match-set ${sets.allow} src ${comment('allowlist')} -j RETURN`] : []),
    ...(family === 6 ? NDP_TYPES.map((t) => `-A ${input} -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j RETURN`) : []),
    ...enforced(`-A ${input} -m conntrack --ctstate INVALID ${comment('invalid')} -j DROP`),
    ...enforced(`-A ${input} -p tcp ! --syn -m conntrack --ctstate NEW ${comment('new TCP must start with SYN')} -j DROP`),
    // IPv4's martian filter drops unspecified, multicast and broadcast sources before INPUT; IPv6
    // lets `::` through (neighbour discovery, returned above, needs it), so nothing else from it is judged or banned.
    ...(family === 6 ? (audit ? [`-A ${input} -s ::/128 -j RETURN`] : [`-A ${input} -s ::/128 ${comment('unspecified source')} -j DROP`]) : []),
    ...(audit && denies ? [`-A ${input} -m set --match-set ${sets.deny} src${notAllowed} ${comment('denied network')} -g ${refuseDrop}`] : []),
    ...staticRules(policy, 'inbound', family, input),

    ...judged(policy, 'inbound', family).map((m) => `-A ${judge} ${m} -g ${CHAINS.queue}`),
    ...enforced(`-A ${CHAINS.queue} ${perSourceBound(policy, family, 'q', `${comment('one source cannot fill the queue')} -j DROP`)}`),
    `-A ${CHAINS.queue} ${comment('judged by the agent')} ${queue}`,

    ...observe.map((m) => `-A ${CHAINS.observe} ${join(m, perSourceBound(policy, family, 'o', `${comment('shown to the detectors')} -j NFLOG --nflog-group ${policy.queue.logGroup} --nflog-size ${OBSERVED_BYTES}`))}`),
    ...(observe.length > 0 ? [`-A ${refuseDrop} -j ${CHAINS.observe}`, `-A ${refuseReject} -j ${CHAINS.observe}`] : []),
    ...enforced(`-A ${refuseDrop} -j DROP`),
    ...enforced(`-A ${refuseReject} ${setMark(REJECT_MARK)}`),

    `-A ${pass} ${setMark(0)}`,
    `-A ${doneIn} -j CONNMARK --set-xmark ${hex(CONNMARK_DONE_IN)}/${hex(CONNMARK_DONE_IN)}`,
    `-A ${doneIn} ${setMark(0)}`,

    // Echo requests are judged one by one: conntrack files a ping flood under one ESTABLISHED entry.
    ...(echo ? [`-A ${established} ${ECHO_REQUEST[family]}${notAllowed} ${comment('echo requests are always judged')} -g ${CHAINS.queue}`] : []),
    ...payloadQueueing(established, inboundPayload, family, CONNMARK_DONE_IN, notAllowed, queue),
  ];

  // Only queued packets carry our marks, so OUTPUT stays empty unless outbound is judged.
  if (judgesOutbound(policy)) {
    const { output, outEstablished, outJudge, outReject, doneOut } = CHAINS;
    mangle.push(
      `-A ${output} ${markIs(PASS_MARK)} -g ${pass}`,
      `-A ${output} ${markIs(DONE_MARK)} -g ${doneOut}`,
      `-A ${output} ${markIs(REJECT_MARK)} -j RETURN`,
      `-A ${output} ${markIs(OWN_MARK)} -j RETURN`,
      `-A ${output} -o lo -j RETURN`,
      `-A ${output} -m conntrack --ctstate RELATED,ESTABLISHED -g ${outEstablished}`,
      `-A ${output} -m conntrack ! --ctstate NEW -j RETURN`,
      ...staticRules(policy, 'outbound', family, output),
      ...judged(policy, 'outbound', family).map((m) => `-A ${outJudge} ${m} ${queue}`),
      ...enforced(`-A ${outReject} ${setMark(REJECT_MARK)}`),
      `-A ${doneOut} -j CONNMARK --set-xmark ${hex(CONNMARK_DONE_OUT)}/${hex(CONNMARK_DONE_OUT)}`,
      `-A ${doneOut} ${setMark(0)}`,
      ...payloadQueueing(outEstablished, outboundPayload, family, CONNMARK_DONE_OUT, '', queue),
    );
  }

  const filter = [
    `-A ${CHAINS.reject} -p tcp ${markIs(REJECT_MARK)} ${comment('rejected')} -j REJECT --reject-with tcp-reset`,
    `-A ${CHAINS.reject} ${markIs(REJECT_MARK)} ${comment('rejected')} -j REJECT --reject-with ${family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'}`,
  ];

  return [
    `# vpsfw: IPv${family}, queue ${policy.queue.num}, fail-${policy.queue.failMode}${audit ? ', AUDIT: nothing enforced' : ''}`,
    ...table('raw', raw),
    ...table('mangle', mangle),
    ...table('filter', filter),
    '',
  ].join('\n');
}

function table(name: Table, rules: string[]): string[] {
  return [`*${name}`, ...TABLE_CHAINS[name].map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT'];
}

/**
 * Established packets of flows payload rules watch: marked, then queued, until the agent marks
 * the flow done in this direction (every rule on it past its depth).
 */
function payloadQueueing(chain: string, rules: readonly PayloadRule[], family: Family, doneBit: number, notAllowed: string, queue: string): string[] {
  const lines = rules.flatMap((r) => entryMatches(r, family).map((m) => `-A ${chain} ${m} -m conntrack --ctstate ESTABLISHED${notAllowed} ${comment(`payload rule ${r.name}`)} ${setMark(ESTABLISHED_MARK)}`));
  if (lines.length === 0) return [];
  return [
    `-A ${chain} -m connmark --mark ${hex(doneBit)}/${hex(doneBit)} ${comment('inspected enough')} -j RETURN`,
    ...lines,
    `-A ${chain} ${markIs(ESTABLISHED_MARK)} ${comment('payload inspection')} ${queue}`,
  ];
}

function renderSets(policy: Policy): string {
  const lines: string[] = [];
  for (const family of [4, 6] as const) {
    const s = setNames(family);
    const fam = family === 4 ? 'inet' : 'inet6';
    lines.push(`create ${s.ban} hash:ip family ${fam} timeout ${DEFAULT_BAN_TIMEOUT_S} maxelem ${SET_MAXELEM} -exist`);
    lines.push(`create ${s.banNet} hash:net family ${fam} timeout ${DEFAULT_BAN_TIMEOUT_S} maxelem ${SET_MAXELEM} -exist`);
    for (const [name, cidrs] of [
      [s.deny, policy.denyNetworks],
      [s.allow, policy.bans.allowlist],
    ] as const) {
      // Filled under a temporary name and swapped in: the live set is never seen half-filled.
      const tmp = `${name}-new`;
      lines.push(`create ${name} hash:net family ${fam} maxelem ${SET_MAXELEM} -exist`);
      lines.push(`create ${tmp} hash:net family ${fam} maxelem ${SET_MAXELEM} -exist`, `flush ${tmp}`);
      for (const c of cidrs) if (c.family === family) lines.push(`add ${tmp} ${formatCidr(c)} -exist`);
      lines.push(`swap ${tmp} ${name}`, `destroy ${tmp}`);
    }
  }
  return lines.join('\n') + '\n';
}
