// Static rules: compiled once per policy, first match wins, else the direction's default. The
// kernel decides them first (kernel/render.ts renders the same rules in the same order); the
// engine decides them again for what it sees, to name the rule and to pick the judges that follow.
import type { Direction, Policy, Rule } from '../policy/schema.js';
import { DST_OFFSET, SRC_OFFSET, type Packet } from '../packet/types.js';
import { CidrSet } from './cidr.js';
import { InterfaceMatch, PortMatch, RuleIndex, type InterfaceNames } from './match.js';
import type { Verdict } from './verdict.js';

interface CompiledRule {
  direction: Direction;
  protocol: Rule['protocol'];
  ports: PortMatch;
  interfaces: InterfaceMatch;
  source: CidrSet;
  destination: CidrSet;
  verdict: Verdict;
}

export class StaticRules {
  readonly #rules: RuleIndex<CompiledRule>;
  readonly #defaults: Record<Direction, Verdict>;
  readonly #interfaceName: InterfaceNames;

  constructor(policy: Policy, interfaceName: InterfaceNames) {
    this.#interfaceName = interfaceName;
    this.#rules = new RuleIndex(
      policy.rules.map((rule) => ({
        direction: rule.direction,
        protocol: rule.protocol,
        ports: new PortMatch(rule),
        interfaces: new InterfaceMatch(rule.interfaces),
        source: new CidrSet(rule.source),
        destination: new CidrSet(rule.destination),
        verdict: { action: rule.action, by: { kind: 'rule', name: rule.name }, reason: `rule ${rule.name}` },
      })),
    );
    this.#defaults = {
      inbound: { action: policy.defaults.inbound, by: { kind: 'default', name: 'inbound' }, reason: 'no rule matched' },
      outbound: { action: policy.defaults.outbound, by: { kind: 'default', name: 'outbound' }, reason: 'no rule matched' },
    };
  }

  /** `ifindex`: the interface the packet came in on (inbound) or goes out on (outbound), 0 if unknown. */
  judge(p: Packet, direction: Direction, ifindex: number): Verdict {
    const family = p.family;
    for (const c of this.#rules.for(direction, family, p.protocol)) {
      if (!c.ports.matches(p, direction)) continue;
      if (!c.source.matches(p.buf, SRC_OFFSET[family], family) || !c.destination.matches(p.buf, DST_OFFSET[family], family)) continue;
      if (!c.interfaces.any && !c.interfaces.matches(this.#interfaceName(ifindex))) continue;
      return c.verdict;
    }
    return this.#defaults[direction];
  }
}
