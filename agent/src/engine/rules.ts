// Static rules: compiled once per policy, first match wins, else the direction's default.
import type { Direction, Policy, Rule } from '../policy/schema.js';
import { DST_OFFSET, SRC_OFFSET, type Packet } from '../packet/types.js';
import { CidrSet } from './cidr.js';
import { destinationPort, PortSet, RuleIndex } from './match.js';
import type { Verdict } from './verdict.js';

interface CompiledRule {
  direction: Direction;
  protocol: Rule['protocol'];
  ports: PortSet;
  source: CidrSet;
  destination: CidrSet;
  verdict: Verdict;
}

export class StaticRules {
  readonly #rules: RuleIndex<CompiledRule>;
  readonly #defaults: Record<Direction, Verdict>;

  constructor(policy: Policy) {
    this.#rules = new RuleIndex(
      policy.rules.map((rule) => ({
        direction: rule.direction,
        protocol: rule.protocol,
        ports: new PortSet(rule.ports),
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

  judge(p: Packet, direction: Direction): Verdict {
    const family = p.family;
    const port = destinationPort(p);
    for (const c of this.#rules.for(direction, family, p.protocol)) {
      if (!c.ports.has(port)) continue;
      if (!c.source.matches(p.buf, SRC_OFFSET[family], family) || !c.destination.matches(p.buf, DST_OFFSET[family], family)) continue;
      return c.verdict;
    }
    return this.#defaults[direction];
  }
}
