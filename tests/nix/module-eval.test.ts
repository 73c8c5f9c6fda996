// The NixOS module evaluated with nixpkgs' lib alone (VPSFW_NIXPKGS_LIB: a checkout of
// nix-community/nixpkgs.lib; nix/tests/stub-nixos.nix stands in for the rest of NixOS), its
// policies then checked by the agent itself: what passes here is what `nixos-rebuild` accepts, a
// bad configuration fails with the agent's message or the module's assertion, and the units and
// triggers are the ones the module hands systemd.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPolicyDocument } from '../../agent/src/policy/defaults.js';

const REPO = new URL('../../', import.meta.url).pathname;
const HARDENING = JSON.parse(readFileSync(join(REPO, 'agent/packaging/hardening.json'), 'utf8')) as Record<string, unknown>;
const LIB = process.env.VPSFW_NIXPKGS_LIB;

interface Unit {
  description: string;
  wantedBy: string[];
  wants: string[];
  requires: string[];
  before: string[];
  after: string[];
  partOf: string[];
  unitConfig: Record<string, unknown>;
  serviceConfig: Record<string, unknown>;
  reloadTriggers: string[];
  restartTriggers: string[];
  reloadIfChanged: boolean;
  stopIfChanged: boolean;
}
interface Rule {
  name: string;
  action: string;
  protocol?: string;
  localPorts?: Array<number | string>;
  ports?: Array<number | string>;
  interfaces?: string[];
}
interface Policy {
  rules: Rule[];
  rateLimits: Array<Record<string, unknown>>;
  trustedInterfaces: string[];
  queue: Record<string, unknown>;
  detectors: Record<string, Record<string, unknown>>;
  logging: Record<string, unknown>;
}
interface System {
  policy: Policy;
  failedAssertions: string[];
  warnings: string[];
  units: Record<string, Unit>;
  etc: string[];
  iptables: string;
  tmpfiles: string[];
  firewall: { allowedTCPPorts: number[]; allowedTCPPortRanges: Array<{ from: number; to: number }>; allowedUDPPorts: number[] };
}

const portsOf = (r: Rule | Record<string, unknown>) => (r.localPorts ?? r.ports) as Array<number | string>;
/** What the policy's accept rules open, as "proto port[@interface]". */
const opened = (p: Policy) =>
  p.rules
    .filter((r) => r.action === 'accept' && (r.protocol === 'tcp' || r.protocol === 'udp'))
    .flatMap((r) => portsOf(r).map((port) => `${r.protocol} ${port}${r.interfaces ? `@${r.interfaces.join(',')}` : ''}`))
    .sort();

if (!LIB) {
  t.comment('skipped: VPSFW_NIXPKGS_LIB is not set (a checkout of nix-community/nixpkgs.lib); see docs/nixos.md');
  t.pass('module evaluation skipped without nixpkgs.lib');
} else {
  const out = execFileSync('nix-instantiate', ['--eval', '--strict', '--json', join(REPO, 'nix/tests/eval.nix'), '--arg', 'lib', `import ${LIB}/lib`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const evaluated = JSON.parse(out) as {
    systems: Record<string, System>;
    options: string[];
    undocumented: string[];
    packageDefault: { text: string } | null;
    servicesWhenDisabled: string[];
    depsName: string | null;
  };
  const { systems } = evaluated;
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-nix-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  t.test('every option says what it does; the package shows its default', async (t) => {
    t.same(evaluated.undocumented, []);
    for (const o of ['enable', 'package', 'openPorts.tcp', 'followFirewall', 'trustedInterfaces', 'ssh.ports', 'ssh.rateLimit', 'ssh.allowLockout', 'allowDhcpClient', 'rules', 'rateLimits', 'denyNetworks', 'bans.allowlist', 'detectors.synFlood', 'payloadRules', 'queueNumber', 'failMode', 'logLevel', 'http.enable', 'http.listenAddress', 'http.port', 'settings']) {
      t.ok(evaluated.options.includes(`services.vpsfw.${o}`), `option ${o}`);
    }
    t.match(evaluated.packageDefault?.text, /nix\/package\.nix.*iptables/);
  });

  for (const [name, system] of Object.entries(systems)) {
    t.test(`configuration ${name}`, async (t) => {
      if (name.startsWith('refused-')) {
        t.not(system.failedAssertions.length, 0, 'refused by an assertion at evaluation');
        return;
      }
      t.same(system.failedAssertions, [], 'no assertion fails');
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(system.policy));
      const r = spawnSync(process.execPath, [join(REPO, 'bin/vpsfw.js'), 'check', '--policy', file], { encoding: 'utf8' });
      if (name.startsWith('bad-')) {
        t.equal(r.status, 1, 'refused by vpsfw check');
        t.match(r.stderr, name === 'bad-cidr' ? /denyNetworks\.0: .*"10\.0\.0\.300\/8"/ : /unknown key "nonsense"/, "with the agent's message");
      } else {
        t.equal(r.status, 0, r.stderr);
      }
    });
  }

  t.test("the policy opens what NixOS' firewall and sshd open, and only that", async (t) => {
    const s = systems['firewall-and-sshd']!;
    t.same(opened(s.policy), ['tcp 2222', 'tcp 443', 'tcp 80', 'udp 51820@wg0', 'udp 60000-61000']);
    t.same(s.policy.trustedInterfaces, ['tailscale0'], "the firewall's trusted interfaces, loopback aside");
    t.same(s.policy.rateLimits.map((l) => [l.name, portsOf(l)]), [['ssh-connections', [2222]]], "the SSH rate limit on sshd's port");
    const off = systems['not-following-the-firewall']!;
    t.same(opened(off.policy).filter((p) => p.startsWith('tcp')), ['tcp 443'], 'followFirewall = false: only its own ports');
    t.ok(off.firewall.allowedTCPPorts.includes(443), "openPorts are opened in NixOS' firewall too");
  });

  t.test("the built-in policy's DHCP client rules and SSH rate limit are kept", async (t) => {
    const builtIn = (name: string) => defaultPolicyDocument.rules!.find((r) => r.name === name)!;
    const rules = systems['with-sshd']!.policy.rules;
    for (const name of ['dhcp-client', 'dhcpv6-client']) {
      const r = rules.find((x) => x.name === name);
      t.same(r && [r.protocol, portsOf(r)], [builtIn(name).protocol, portsOf(builtIn(name) as Rule)], name);
    }
    const limit = systems['with-sshd']!.policy.rateLimits[0]!;
    const { rate, per, burst, ban } = defaultPolicyDocument.rateLimits![0]!;
    t.match(limit, { name: 'ssh-connections', rate, per, burst, ban }, 'the same limit as the built-in');
    t.same(portsOf(limit), [22]);
    t.same(rules.filter((r) => r.name.startsWith('dhcp')).length, 2);
    t.notOk(systems['firewall-and-sshd']!.policy.rules.some((r) => r.name.startsWith('dhcp')), 'allowDhcpClient = false drops them');
  });

  t.test('what the options produce, in order', async (t) => {
    const web = systems['web-server']!;
    t.same(web.policy.rules.map((r) => r.name), ['admin-office', 'ssh', 'dhcp-client', 'dhcpv6-client', 'open-tcp', 'open-udp', 'ping', 'ping6'], 'user rules first');
    t.same(portsOf(web.policy.rules[4]!), [80, 443, '8000-8100', '9000-9010'], '{ from, to } ranges and the string form');
    t.same(web.firewall.allowedTCPPortRanges, [{ from: 8000, to: 8100 }, { from: 9000, to: 9010 }], "and as ranges in NixOS' firewall");
    t.same(web.policy.rateLimits.map((l) => l.name), ['ssh-connections', 'web']);
  });

  t.test('settings add keys and are merged into the attribute sets', async (t) => {
    const p = systems['fail-closed-with-settings']!.policy;
    t.same(p.queue, { num: 7, failMode: 'closed', maxLen: 8192 });
    t.same(p.detectors.synFlood!.total, { rate: 5000, burst: 10000 });
    t.ok(p.detectors.synFlood!.perSource, 'beside what the options set');
    t.same(p.logging, { level: 'debug', dropLogsPerSecond: 5 });
  });

  t.test('a settings key the options produce is refused, naming the option', async (t) => {
    const rules = systems['refused-settings-rules']!.failedAssertions.join('\n');
    t.match(rules, /services\.vpsfw\.settings\.rules: .*services\.vpsfw\.rules, openPorts, ssh\.ports/);
    t.match(systems['refused-settings-queue']!.failedAssertions, [/services\.vpsfw\.settings\.queue\.num: .*services\.vpsfw\.queueNumber/]);
  });

  t.test('a configuration that would lock the owner out of SSH does not build', async (t) => {
    t.match(systems['refused-lockout']!.failedAssertions, [/sshd listens on port 2222, which no vpsfw rule admits.*services\.vpsfw\.ssh\.allowLockout = true/]);
    t.same(systems['lockout-allowed']!.failedAssertions, [], 'unless ssh.allowLockout says so');
    t.same(systems['firewall-and-sshd']!.failedAssertions, [], 'a port opened by the ssh rule admits it');
  });

  t.test('the units', async (t) => {
    const { units, etc, warnings } = systems.defaults!;
    t.same(Object.keys(units).sort(), ['vpsfw', 'vpsfw-rules']);
    const rules = units['vpsfw-rules']!;
    const agent = units.vpsfw!;
    for (const u of [rules, agent]) {
      for (const [key, value] of Object.entries(HARDENING)) {
        if (!key.startsWith('_')) t.same(u.serviceConfig[key], value, `${u.description}: ${key} from hardening.json`);
      }
      t.match(u.serviceConfig, { StateDirectory: 'vpsfw' }, 'the bans in one state directory');
      t.equal(u.unitConfig.DefaultDependencies, false);
      for (const b of ['network-pre.target', 'sshd.service', 'shutdown.target']) t.ok(u.before.includes(b), `before ${b}`);
    }
    t.match(rules, { reloadIfChanged: true, wantedBy: [], wants: ['network-pre.target'], unitConfig: { StopWhenUnneeded: true } }, 'rules: needed only by the agent, reloaded by a switch');
    t.match(rules.serviceConfig, { Type: 'oneshot', RemainAfterExit: true });
    for (const k of ['ExecStart', 'ExecReload']) t.match(rules.serviceConfig[k], /\/bin\/vpsfw apply --policy \/etc\/vpsfw\/policy\.json$/, k);
    t.match(rules.serviceConfig.ExecStop, /\/bin\/vpsfw cleanup$/);
    for (const a of ['firewall.service', 'nftables.service']) t.ok(rules.after.includes(a), `rules after ${a}`);
    t.match(agent, { wantedBy: ['multi-user.target'], requires: ['vpsfw-rules.service'], stopIfChanged: false, reloadIfChanged: false });
    t.ok(agent.after.includes('vpsfw-rules.service'));
    t.match(agent.serviceConfig.ExecStart, /\/bin\/vpsfw run --policy \/etc\/vpsfw\/policy\.json --keep-rules$/);
    t.match(agent.serviceConfig.ExecReload, /\/bin\/vpsfw reload$/);
    t.match(agent.serviceConfig.ExecStartPost, /-S \/run\/vpsfw\/control\.sock/, 'started means the control socket is up');
    t.match(agent.serviceConfig, { Restart: 'always', RuntimeDirectory: 'vpsfw' });
    t.same(etc, ['vpsfw/policy.json', 'vpsfw/rules.txt']);
    t.same(warnings, []);
    t.same(evaluated.servicesWhenDisabled, [], 'nothing when not enabled');
  });

  t.test('log sources: the sshd journal with services.openssh, and only the access they need', async (t) => {
    const sshd = systems['with-sshd']!;
    t.same((sshd.policy as { logSources?: unknown[] }).logSources, [{ name: 'sshd', kind: 'sshd', journal: 'sshd.service', maxRetry: 5, findTime: '10m', ban: '1h' }]);
    t.same(sshd.units.vpsfw!.serviceConfig.SupplementaryGroups, ['systemd-journal'], "the journal's group");
    t.equal(sshd.units.vpsfw!.serviceConfig.ReadOnlyPaths, undefined);
    const file = systems['following-a-file']!;
    t.same((file.policy as { logSources?: Array<{ name: string }> }).logSources?.map((s) => s.name), ['ids'], 'services.vpsfw.logSources added');
    t.same(file.units.vpsfw!.serviceConfig.ReadOnlyPaths, ['/var/log/suricata'], "a followed file's directory, read-only");
    t.equal(file.units.vpsfw!.serviceConfig.SupplementaryGroups, undefined);
    t.equal(systems.defaults!.units.vpsfw!.serviceConfig.SupplementaryGroups, undefined, 'nothing without log sources');
  });

  t.test('triggers come from the final policy', async (t) => {
    const base = systems.defaults!.units;
    const port = systems['another-port']!.units;
    const queue = systems['another-queue-length']!.units;
    for (const unit of ['vpsfw', 'vpsfw-rules']) {
      t.not(port[unit]!.reloadTriggers[0], base[unit]!.reloadTriggers[0], `${unit}: a port change reloads`);
      t.match(base[unit]!.reloadTriggers[0], /-vpsfw-policy\.json$/);
    }
    t.same(port.vpsfw!.restartTriggers, base.vpsfw!.restartTriggers, 'a port change does not restart the agent');
    t.not(queue.vpsfw!.restartTriggers[0], base.vpsfw!.restartTriggers[0], 'settings.queue.maxLen restarts it');
    t.same(JSON.parse(base.vpsfw!.restartTriggers[0]!), { num: 0, maxLen: null, failMode: 'open', logGroup: null });
    t.same(JSON.parse(systems['fail-closed-with-settings']!.units.vpsfw!.restartTriggers[0]!), { num: 7, maxLen: 8192, failMode: 'closed', logGroup: null });
  });

  t.test('the HTTP listener: its address in the policy; the agent lets its clients in and restarts when it changes', async (t) => {
    t.notOk('IPAddressAllow' in systems.defaults!.units.vpsfw!.serviceConfig, 'off: no IP traffic allowed');
    const on = systems['http-on']!;
    t.same((on.policy as unknown as { http: unknown }).http, { listen: '127.0.0.1:9469' });
    t.same(on.units.vpsfw!.serviceConfig.IPAddressAllow, ['127.0.0.0/8', '::1/128'], 'on: loopback clients');
    t.equal(on.units.vpsfw!.serviceConfig.IPAddressDeny, 'any', 'and nothing else');
    t.notOk('IPAddressAllow' in on.units['vpsfw-rules']!.serviceConfig, 'the rules unit serves nobody');
    t.same(JSON.parse(on.units.vpsfw!.restartTriggers[0]!).http, { listen: '127.0.0.1:9469', allowFrom: null }, 'a reload refuses a new listener: a change restarts');
    t.same(on.units.vpsfw!.reloadTriggers.length, 1);
    const beyond = systems['http-beyond-loopback']!;
    t.same((beyond.policy as unknown as { http: unknown }).http, { listen: '[::]:9100', allowFrom: ['10.0.0.0/24'] }, 'an IPv6 address in brackets; allowFrom from settings');
    t.same(beyond.units.vpsfw!.serviceConfig.IPAddressAllow, ['10.0.0.0/24']);
  });

  t.test('CrowdSec beside the HTTP listener: the unit lets in both the LAPI and the listener\'s clients, the secrets as credentials', async (t) => {
    const c = systems['crowdsec-and-http']!;
    t.same(c.failedAssertions, []);
    t.same((c.policy as unknown as { crowdsec: unknown }).crowdsec, { url: 'https://192.0.2.10:8080/', bouncerKeyFile: '/run/credentials/vpsfw.service/crowdsec-bouncer-key', machine: { login: 'web1', passwordFile: '/run/credentials/vpsfw.service/crowdsec-machine-password' } });
    const agent = c.units.vpsfw!.serviceConfig;
    t.same([...(agent.IPAddressAllow as string[])].sort(), ['127.0.0.0/8', '192.0.2.10', '::1/128'], 'the LAPI and the listener\'s clients, neither list lost');
    t.equal(agent.IPAddressDeny, 'any', 'nothing else');
    t.same(agent.LoadCredential, ['crowdsec-bouncer-key:/run/secrets/vpsfw-bouncer-key', 'crowdsec-machine-password:/run/secrets/vpsfw-machine-password']);
    t.notOk('IPAddressAllow' in c.units['vpsfw-rules']!.serviceConfig, 'the rules unit talks to no one');
  });

  t.test('nftables: warnings only where they apply', async (t) => {
    t.same(systems.nftables!.warnings, [], 'its own tables only: nothing to warn of');
    t.same(systems['nftables-without-firewall']!.warnings, []);
    const flushed = systems['nftables-flushed']!;
    t.match(flushed.warnings, [/flushRuleset removes vpsfw's rules/]);
    const rules = flushed.units['vpsfw-rules']!;
    t.same(rules.partOf, ['nftables.service']);
    t.equal(rules.unitConfig.ReloadPropagatedFrom, 'nftables.service', 'rules re-applied after each nftables reload');
    t.same(systems.nftables!.units['vpsfw-rules']!.partOf, []);
  });

  t.test('firewalld: its nftables backend is followed, its iptables backend refused', async (t) => {
    const fd = systems.firewalld!;
    t.same(fd.failedAssertions, []);
    t.ok(opened(fd.policy).includes('tcp 443'), "the ports NixOS' firewall hands firewalld");
    t.match(systems['refused-firewalld-iptables']!.failedAssertions, [/firewalld's iptables backend .* flushes and deletes every iptables chain/]);
  });

  t.test("iptables-legacy: the agent runs the firewall's iptables", async (t) => {
    const legacy = systems['iptables-legacy']!;
    t.equal(legacy.iptables, 'iptables-legacy');
    t.same(legacy.tmpfiles, ['f /run/xtables.lock 0644 root root -'], 'its lock exists before the read-only /run of the units');
    t.ok(legacy.units['vpsfw-rules']!.after.includes('systemd-tmpfiles-setup.service'));
    t.equal(systems.defaults!.iptables, 'iptables');
    t.same(systems.defaults!.tmpfiles, []);
    t.equal(systems.nftables!.iptables, 'iptables', 'iptables-nft beside the nftables firewall');
  });

  t.test('the deps output is named for its lock, and a lock without its pin stops evaluation', async (t) => {
    const lockHash = execFileSync('sha256sum', [join(REPO, 'package-lock.json')], { encoding: 'utf8' }).split(' ')[0]!;
    t.equal(evaluated.depsName, `vpsfw-npm-deps-${lockHash.slice(0, 16)}`, 'null: the pin is stale (tests/nix/npm-deps.test.ts says what to do)');
    const other = join(dir, 'package-lock.json');
    writeFileSync(other, '{"lockfileVersion": 3, "packages": {}}\n');
    const expr = `import ${join(REPO, 'nix/npm-deps-pin.nix')} { lib = import ${LIB}/lib; lock = ${other}; pinFile = ${join(REPO, 'nix/npm-deps.json')}; }`;
    const r = spawnSync('nix-instantiate', ['--eval', '--strict', '-E', expr], { encoding: 'utf8' });
    t.not(r.status, 0);
    t.match(r.stderr, /nix\/npm-deps\.json was made for another package-lock\.json .*run `npm run nix:pin-deps`/);
  });
}
