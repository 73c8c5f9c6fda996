// Every schema rule, good and bad: each bad document must be refused with an issue at the right
// path that names the value; each good one must parse to the values the engine will use.
import t from 'tap';
import { defaultPolicyDocument } from '../../../agent/src/policy/defaults.js';
import { parsePolicy } from '../../../agent/src/policy/load.js';
import { policyIssues as issues } from '../../lib/policy-issues.js';


const rule = (extra: object) => ({ version: 1, rules: [{ name: 'r', action: 'accept', ...extra }] });

t.test('the built-in default policy is valid and what a fresh VPS needs', async (t) => {
  const { policy } = parsePolicy(defaultPolicyDocument, 'default');
  t.equal(policy.defaults.inbound, 'drop');
  t.ok(policy.rules.find((r) => r.protocol === 'tcp' && r.localPorts?.some((p) => p.from <= 22 && p.to >= 22) && r.action === 'accept'), 'ssh allowed');
  t.ok(policy.detectors.synFlood.enabled && policy.detectors.portScan.enabled && policy.detectors.icmpFlood.enabled);
  t.equal(policy.queue.failMode, 'open');
});

t.test('a minimal document gets every default', async (t) => {
  const { policy } = parsePolicy({ version: 1 }, 'test');
  t.same(policy.queue, { num: 0, failMode: 'open', maxLen: 4096, logGroup: 100, perSource: { rate: 1000, burst: 2000 } });
  t.same(policy.trustedInterfaces, []);
  t.equal(policy.bans.duration, 3_600_000);
  t.same(policy.bans.allowlist.map((c) => `${c.address}/${c.prefix}`), ['127.0.0.0/8', '::1/128']);
  t.equal(policy.detectors.portScan.ban, 3_600_000);
  t.equal(parsePolicy({ version: 1, detectors: { portScan: { ports: 3 } } }, 't').policy.detectors.portScan.ban, 3_600_000, 'a partial block keeps the 1h default');
  t.equal(policy.detectors.synFlood.perSource.per, 1000);
  t.same(policy.limits, { sources: 100_000, flows: 100_000, flowIdle: 300_000 }, 'the memory bound the benchmark measures');
  t.ok(Object.isFrozen(policy.rules), 'frozen');
});

const bad: Array<[string, unknown, string, unknown]> = [
  ['missing version', {}, 'version', undefined],
  ['version 2', { version: 2 }, 'version', 2],
  ['unknown top-level key', { version: 1, extra: true }, '', undefined],
  ['unknown nested key', { version: 1, queue: { number: 1 } }, 'queue', undefined],
  ['queue number negative', { version: 1, queue: { num: -1 } }, 'queue.num', -1],
  ['queue number not integer', { version: 1, queue: { num: 1.5 } }, 'queue.num', 1.5],
  ['fail mode', { version: 1, queue: { failMode: 'sometimes' } }, 'queue.failMode', 'sometimes'],
  ['default verdict', { version: 1, defaults: { inbound: 'allow' } }, 'defaults.inbound', 'allow'],
  ['bad IPv4 CIDR', rule({ source: ['10.0.0.300/8'] }), 'rules.0.source.0', '10.0.0.300/8'],
  ['bad IPv6 CIDR', rule({ source: ['::g/64'] }), 'rules.0.source.0', '::g/64'],
  ['v4 prefix too long', rule({ destination: ['10.0.0.0/33'] }), 'rules.0.destination.0', '10.0.0.0/33'],
  ['v6 prefix too long', { version: 1, denyNetworks: ['2001:db8::/129'] }, 'denyNetworks.0', '2001:db8::/129'],
  ['port 0', rule({ protocol: 'tcp', ports: [0] }), 'rules.0.ports.0', 0],
  ['port 70000', rule({ protocol: 'tcp', ports: [70000] }), 'rules.0.ports.0', 70000],
  ['reversed range', rule({ protocol: 'udp', ports: ['90-80'] }), 'rules.0.ports.0', '90-80'],
  ['port text', rule({ protocol: 'tcp', ports: ['ssh'] }), 'rules.0.ports.0', 'ssh'],
  ['ports without tcp/udp', rule({ protocol: 'icmp', ports: [22] }), 'rules.0.ports', 'icmp'],
  ['localPorts without tcp/udp', rule({ protocol: 'any', localPorts: [22] }), 'rules.0.localPorts', 'any'],
  ['remotePorts without tcp/udp', rule({ protocol: 'icmpv6', remotePorts: [22] }), 'rules.0.remotePorts', 'icmpv6'],
  ['ports beside the field it stands for (inbound)', rule({ protocol: 'tcp', ports: [22], localPorts: [23] }), 'rules.0.ports', [{ from: 22, to: 22 }]],
  ['ports beside the field it stands for (outbound)', rule({ protocol: 'tcp', direction: 'outbound', ports: [22], remotePorts: [23] }), 'rules.0.ports', [{ from: 22, to: 22 }]],
  ['bad interface name', rule({ interfaces: ['eth 0'] }), 'rules.0.interfaces.0', 'eth 0'],
  ['interface name too long', { version: 1, trustedInterfaces: ['a-very-long-interface'] }, 'trustedInterfaces.0', 'a-very-long-interface'],
  ['payload rule without ports', { version: 1, payloadRules: [{ name: 'p', protocol: 'tcp', pattern: { text: 'x' }, action: 'drop' }] }, 'payloadRules.0.localPorts', undefined],
  ['depth on udp', { version: 1, payloadRules: [{ name: 'p', protocol: 'udp', localPorts: [53], pattern: { text: 'x' }, action: 'drop', depth: 10 }] }, 'payloadRules.0.depth', 10],
  ['queue per-source rate', { version: 1, queue: { perSource: { rate: 0 } } }, 'queue.perSource.rate', 0],
  ['NFLOG group', { version: 1, queue: { logGroup: 70000 } }, 'queue.logGroup', 70000],
  ['wrong type', rule({ protocol: 6 }), 'rules.0.protocol', 6],
  ['bad direction', rule({ direction: 'both' }), 'rules.0.direction', 'both'],
  ['bad rule name', rule({ name: 'has space' }), 'rules.0.name', 'has space'],
  ['duration 5x', { version: 1, bans: { duration: '5x' } }, 'bans.duration', '5x'],
  ['too few flows', { version: 1, limits: { flows: 8 } }, 'limits.flows', 8],
  ['sources not integer', { version: 1, limits: { sources: 1e3 + 0.5 } }, 'limits.sources', 1000.5],
  ['flow idle time', { version: 1, limits: { flowIdle: 'soon' } }, 'limits.flowIdle', 'soon'],
  ['scan ports beyond what is tracked', { version: 1, detectors: { portScan: { ports: 2000 } } }, 'detectors.portScan.ports', 2000],
  ['duration number', { version: 1, bans: { duration: 60 } }, 'bans.duration', 60],
  ['duration zero', { version: 1, detectors: { portScan: { window: '0s' } } }, 'detectors.portScan.window', '0s'],
  ['rate not positive', { version: 1, detectors: { synFlood: { perSource: { rate: 0, burst: 1 } } } }, 'detectors.synFlood.perSource.rate', 0],
  ['invalid regex', { version: 1, payloadRules: [{ name: 'p', protocol: 'tcp', ports: [80], pattern: { regex: '(' }, action: 'drop' }] }, 'payloadRules.0.pattern.regex', '('],
  ['backtracking regex', { version: 1, payloadRules: [{ name: 'p', protocol: 'tcp', ports: [80], pattern: { regex: '(a)\\1' }, action: 'drop' }] }, 'payloadRules.0.pattern.regex', '(a)\\1'],
  ['regex flag i (no linear-time support)', { version: 1, payloadRules: [{ name: 'p', protocol: 'tcp', ports: [80], pattern: { regex: 'a', flags: 'i' }, action: 'drop' }] }, 'payloadRules.0.pattern.regex', 'a'],
  ['bad hex', { version: 1, payloadRules: [{ name: 'p', protocol: 'tcp', ports: [80], pattern: { hex: 'zz' }, action: 'drop' }] }, 'payloadRules.0.pattern.hex', 'zz'],
  ['payload action', { version: 1, payloadRules: [{ name: 'p', protocol: 'tcp', ports: [80], pattern: { text: 'x' }, action: 'accept' }] }, 'payloadRules.0.action', 'accept'],
  ['duplicate rule names', { version: 1, rules: [{ name: 'a', action: 'accept' }, { name: 'a', action: 'drop' }] }, 'rules.1.name', 'a'],
  ['bad log level', { version: 1, logging: { level: 'loud' } }, 'logging.level', 'loud'],
  ['allowlist entry', { version: 1, bans: { allowlist: ['localhost'] } }, 'bans.allowlist.0', 'localhost'],
  ['max entries too small', { version: 1, bans: { maxEntries: 1 } }, 'bans.maxEntries', 1],
];

for (const [name, doc, path, value] of bad) {
  t.test(`refused: ${name}`, async (t) => {
    const found = issues(doc);
    const hit = found.find((i) => i.path === path);
    t.ok(hit, `an issue at "${path}" (got ${JSON.stringify(found)})`);
    if (value !== undefined) t.same(hit?.value, value, 'names the value');
  });
}

t.test('unknown keys are named', async (t) => {
  const [i] = issues({ version: 1, extra: true, other: 1 });
  t.match(i?.message, /unknown keys "extra", "other"/);
});

t.test('every problem is reported at once', async (t) => {
  t.equal(issues({ version: 1, queue: { num: -1 }, bans: { duration: 'x' }, rules: [{ name: 'r', action: 'nope' }] }).length, 3);
});

t.test('good values parse to what the engine uses', async (t) => {
  const { policy } = parsePolicy(
    {
      version: 1,
      rules: [{ name: 'web', action: 'accept', protocol: 'tcp', ports: [80, '8000-8100'], source: ['192.0.2.0/24', '2001:db8::/32', '198.51.100.7'] }],
      payloadRules: [
        { name: 't', protocol: 'tcp', ports: [80], pattern: { text: 'evil' }, action: 'drop' },
        { name: 'h', protocol: 'udp', ports: [53], pattern: { hex: 'de ad be ef' }, action: 'log' },
        { name: 'r', protocol: 'tcp', ports: [80], pattern: { regex: '[Gg][Ee][Tt] /(etc|bin)/', flags: 's' }, action: 'reject', ban: '1h' },
      ],
      rateLimits: [{ name: 'l', protocol: 'tcp', ports: [22], rate: 5, per: '1m', burst: 10, ban: '30m' }],
      bans: { duration: '2h', escalation: { factor: 3, max: '3d' } },
    },
    'test',
  );
  const r = policy.rules[0]!;
  t.same(r.localPorts, [{ from: 80, to: 80 }, { from: 8000, to: 8100 }], 'ports on an inbound rule is localPorts');
  t.notOk('ports' in r, 'the alias is folded away');
  t.same(r.source, [{ family: 4, address: '192.0.2.0', prefix: 24 }, { family: 6, address: '2001:db8::', prefix: 32 }, { family: 4, address: '198.51.100.7', prefix: 32 }]);
  t.equal(r.direction, 'inbound');
  t.equal(policy.rateLimits[0]!.per, 60_000);
  t.equal(policy.rateLimits[0]!.ban, 1_800_000);
  t.equal(policy.payloadRules[2]!.ban, 3_600_000);
  t.equal(policy.payloadRules[0]!.ban, false);
  t.same(policy.bans.escalation, { factor: 3, max: 259_200_000, memory: 604_800_000 });
});

t.test('ports say whose port they are: ports is the destination, folded into the field it stands for', async (t) => {
  const { policy } = parsePolicy(
    {
      version: 1,
      rules: [
        { name: 'in', action: 'accept', protocol: 'tcp', ports: [22] },
        { name: 'out', action: 'drop', direction: 'outbound', protocol: 'tcp', ports: [25] },
        { name: 'both', action: 'accept', protocol: 'udp', localPorts: [53], remotePorts: ['1024-65535'], interfaces: ['eth0', 'veth+'] },
      ],
      rateLimits: [{ name: 'l', direction: 'outbound', protocol: 'tcp', ports: [443], rate: 1, burst: 1 }],
      payloadRules: [{ name: 'leak', direction: 'outbound', protocol: 'tcp', localPorts: [2222], pattern: { text: 'SECRET' }, action: 'reject', depth: 300 }],
    },
    'test',
  );
  const [inbound, outbound, both] = policy.rules;
  t.same([inbound!.localPorts, inbound!.remotePorts], [[{ from: 22, to: 22 }], undefined]);
  t.same([outbound!.localPorts, outbound!.remotePorts], [undefined, [{ from: 25, to: 25 }]]);
  t.same([both!.localPorts, both!.remotePorts, both!.interfaces], [[{ from: 53, to: 53 }], [{ from: 1024, to: 65535 }], ['eth0', 'veth+']]);
  t.same(policy.rateLimits[0]!.remotePorts, [{ from: 443, to: 443 }]);
  t.same([policy.payloadRules[0]!.localPorts, policy.payloadRules[0]!.depth], [[{ from: 2222, to: 2222 }], 300]);
});
