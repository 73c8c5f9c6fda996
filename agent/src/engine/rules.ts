// Static rules: compiled once per policy, first match wins, else the direction's default.
import type { Direction, Policy, Rule } from '../policy/schema.js';
import type { Packet } from '../packet/types.js';
import { CidrSet, DST_OFFSET, SRC_OFFSET } from './cidr.js';
import { portsMatch, protocolMatches } from './match.js';
import type { Verdict } from './verdict.js';

interface CompiledRule {
  rule: Rule;
  source: CidrSet;
  destination: CidrSet;
  verdict: Verdict;
}

export class StaticRules {
  readonly #rules: CompiledRule[];
  readonly #defaults: Record<Direction, Verdict>;

  constructor(policy: Policy) {
    this.#rules = policy.rules.map((rule) => ({
      rule,
      source: new CidrSet(rule.source),
      destination: new CidrSet(rule.destination),
      verdict: { action: rule.action, by: { kind: 'rule', name: rule.name }, reason: `rule ${rule.name}` },
    }));
    this.#defaults = {
      inbound: { action: policy.defaults.inbound, by: { kind: 'default', name: 'inbound' }, reason: 'no rule matched' },
      outbound: { action: policy.defaults.outbound, by: { kind: 'default', name: 'outbound' }, reason: 'no rule matched' },
    };
  }

  judge(p: Packet, direction: Direction): Verdict {
    for (const c of this.#rules) {
      const r = c.rule;
      if (r.direction !== direction || !protocolMatches(r.protocol, p) || !portsMatch(r.ports, p)) continue;
      if (!c.source.hasFamily(p.family) || !c.destination.hasFamily(p.family)) continue;
      if (!c.source.matches(p.buf, SRC_OFFSET[p.family], p.family) || !c.destination.matches(p.buf, DST_OFFSET[p.family], p.family)) continue;
      return c.verdict;
    }
    return this.#defaults[direction];
  }
}
