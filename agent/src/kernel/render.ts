// Policy → kernel plan, as text: the iptables-restore / ip6tables-restore documents for our own
// chains and the ipset script for our sets. Pure and deterministic, so `vpsfw render` shows
// exactly what `vpsfw run` applies, and NixOS can build it into the store.
import { BlockList } from 'node:net';
import type { PayloadRule, Policy } from '../policy/schema.js';
import type { Cidr, PortRange } from '../policy/units.js';
import { formatCidr } from '../policy/units.js';
import { CHAINS, ESTABLISHED_MARK, MARK_MASK, REJECT_MARK, setNames, type Family } from './names.js';

export interface KernelPlan {
  /** iptables-restore --noflush document: declares (so flushes) and fills our chains only. */
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
/**
 * ICMPv6 that IPv6 itself needs: multicast listener query/report/done (130-132, 143: untracked by
 * conntrack, so they would otherwise be queued and judged), router solicitation/advertisement,
 * neighbour solicitation/advertisement, redirect (133-137).
 */
const NDP_TYPES = [130, 131, 132, 133, 134, 135, 136, 137, 143];

const ECHO_REQUEST = { 4: '-p icmp -m icmp --icmp-type 8', 6: '-p ipv6-icmp -m icmp6 --icmpv6-type 128' } as const;

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
const markMatch = (mark: number) => `-m mark --mark ${hex(mark)}/${hex(MARK_MASK)}`;
const comment = (text: string) => `-m comment --comment "vpsfw: ${text}"`;

export function renderKernel(policy: Policy): KernelPlan {
  return { ipv4: renderFamily(policy, 4), ipv6: renderFamily(policy, 6), ipset: renderSets(policy) };
}

function queueTarget(policy: Policy): string {
  return `-j NFQUEUE --queue-num ${policy.queue.num}${policy.queue.failMode === 'open' ? ' --queue-bypass' : ''}`;
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

/** Established packets on payload-rule ports: marked, then queued with the rest of the judged traffic. */
function payloadQueueing(chain: string, rules: readonly PayloadRule[], extra = ''): string[] {
  const out: string[] = [];
  for (const r of rules) {
    const depth = r.depth === undefined ? '' : ` -m connbytes --connbytes 0:${r.depth} --connbytes-dir original --connbytes-mode bytes`;
    for (const ports of multiportLists(r.ports)) {
      out.push(`-A ${chain} -p ${r.protocol} -m multiport --dports ${ports} -m conntrack --ctstate ESTABLISHED${depth}${extra} ${comment(`payload rule ${r.name}`)} -j MARK --set-xmark ${hex(ESTABLISHED_MARK)}/${hex(MARK_MASK)}`);
    }
  }
  return out;
}

function rejectRules(chain: string, family: Family): string[] {
  return [
    `-A ${chain} -p tcp ${markMatch(REJECT_MARK)} ${comment('agent verdict reject')} -j REJECT --reject-with tcp-reset`,
    `-A ${chain} ${markMatch(REJECT_MARK)} ${comment('agent verdict reject')} -j REJECT --reject-with ${family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'}`,
  ];
}

/** Outbound traffic is queued only when the policy judges it; otherwise OUTPUT costs one jump to an empty chain. */
function judgesOutbound(p: Policy): boolean {
  return (
    p.defaults.outbound !== 'accept' ||
    p.rules.some((r) => r.direction === 'outbound') ||
    p.rateLimits.some((r) => r.direction === 'outbound') ||
    p.payloadRules.some((r) => r.direction === 'outbound')
  );
}

export function renderFamily(policy: Policy, family: Family): string {
  const sets = setNames(family);
  const inp = CHAINS.input;
  const est = CHAINS.established;
  const out = CHAINS.output;
  const queue = queueTarget(policy);
  const allows = policy.bans.allowlist.some((c) => c.family === family && beyondLoopback(c));
  // Evaluated only after another match of the rule succeeded, so it costs the fast path nothing.
  const notAllowed = allows ? ` -m set ! --match-set ${sets.allow} src` : '';
  // The deny set holds this policy's networks and nothing else (the same apply fills it): with
  // none in this family its rules could match nothing, so they are left out, lookups and all.
  const denies = policy.denyNetworks.some((c) => c.family === family);
  // Network bans come from CrowdSec's decisions alone: without a bouncer key, no lookup is paid.
  const netBans = policy.crowdsec?.bouncerKeyFile !== undefined;
  const inboundPayload = policy.payloadRules.filter((r) => r.direction === 'inbound');
  const outboundPayload = policy.payloadRules.filter((r) => r.direction === 'outbound');
  const lines = [
    `# vpsfw: IPv${family}, queue ${policy.queue.num}, fail-${policy.queue.failMode}`,
    '*filter',
    `:${inp} - [0:0]`,
    `:${est} - [0:0]`,
    `:${out} - [0:0]`,
    ...rejectRules(inp, family),
    `-A ${inp} -i lo -j RETURN`,
    // Established and related packets go (goto: the end of that chain returns past our jump) to a
    // short chain of their own; the rest below sees only what opens a flow or belongs to none.
    `-A ${inp} -m conntrack --ctstate RELATED,ESTABLISHED ${comment('fast path')} -g ${est}`,
    ...(allows ? [`-A ${inp} -m set --match-set ${sets.allow} src ${comment('allowlist')} -j RETURN`] : []),
    ...(family === 6 ? NDP_TYPES.map((t) => `-A ${inp} -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j RETURN`) : []),
    `-A ${inp} -m conntrack --ctstate INVALID -j DROP`,
    `-A ${inp} -p tcp ! --syn -m conntrack --ctstate NEW ${comment('new TCP must start with SYN')} -j DROP`,
    `-A ${inp} -m set --match-set ${sets.ban} src ${comment('banned')} -j DROP`,
    ...(netBans ? [`-A ${inp} -m set --match-set ${sets.bannet} src ${comment('banned network')} -j DROP`] : []),
    ...(denies ? [`-A ${inp} -m set --match-set ${sets.deny} src ${comment('denied network')} -j DROP`] : []),
    `-A ${inp} ${comment('judged by the agent')} ${queue}`,
    // A ban or a denied network cuts the flows already open too; the allowlist still wins.
    `-A ${est} -m set --match-set ${sets.ban} src${notAllowed} ${comment('banned, established')} -j DROP`,
    ...(netBans ? [`-A ${est} -m set --match-set ${sets.bannet} src${notAllowed} ${comment('banned network, established')} -j DROP`] : []),
    ...(denies ? [`-A ${est} -m set --match-set ${sets.deny} src${notAllowed} ${comment('denied network, established')} -j DROP`] : []),
    ...payloadQueueing(est, inboundPayload, notAllowed),
    ...(inboundPayload.length > 0 ? [`-A ${est} ${markMatch(ESTABLISHED_MARK)} ${comment('payload inspection')} ${queue}`] : []),
    // Echo requests are judged one by one: conntrack files a ping flood under one ESTABLISHED entry.
    `-A ${est} ${ECHO_REQUEST[family]}${notAllowed} ${comment('echo requests are always judged')} ${queue}`,
  ];
  // Only queued packets can carry the reject mark, so OUTPUT stays empty unless outbound is judged.
  if (judgesOutbound(policy)) {
    lines.push(
      ...rejectRules(out, family),
      `-A ${out} -o lo -j RETURN`,
      ...payloadQueueing(out, outboundPayload),
      ...(outboundPayload.length > 0 ? [`-A ${out} ${markMatch(ESTABLISHED_MARK)} ${comment('payload inspection')} ${queue}`] : []),
      `-A ${out} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
      `-A ${out} -m conntrack --ctstate NEW ${comment('judged by the agent')} ${queue}`,
    );
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

function renderSets(policy: Policy): string {
  const lines: string[] = [];
  for (const family of [4, 6] as const) {
    const s = setNames(family);
    const fam = family === 4 ? 'inet' : 'inet6';
    lines.push(`create ${s.ban} hash:ip family ${fam} timeout ${DEFAULT_BAN_TIMEOUT_S} maxelem ${SET_MAXELEM} -exist`);
    if (policy.crowdsec?.bouncerKeyFile !== undefined) lines.push(`create ${s.bannet} hash:net family ${fam} timeout ${DEFAULT_BAN_TIMEOUT_S} maxelem ${SET_MAXELEM} -exist`);
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
