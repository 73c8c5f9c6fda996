// The NixOS module's options and the policies it generates, evaluated with nixpkgs' lib alone
// (VPSFW_NIXPKGS_LIB: a checkout of nix-community/nixpkgs.lib), then checked by the agent itself:
// what passes here is what `nixos-rebuild` accepts, and a bad configuration fails with the agent's message.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('../../', import.meta.url).pathname;
const HARDENING = JSON.parse(readFileSync(join(REPO, 'agent/packaging/hardening.json'), 'utf8')) as Record<string, unknown>;

interface Unit {
  wantedBy: string[];
  before: string[];
  after: string[];
  partOf: string[];
  unitConfig: Record<string, unknown>;
  serviceConfig: Record<string, unknown>;
  reloadTriggers: string[];
  restartTriggers: string[];
  etc: string[];
  warnings: string[];
}
const LIB = process.env.VPSFW_NIXPKGS_LIB;

if (!LIB) {
  t.comment('skipped: VPSFW_NIXPKGS_LIB is not set (a checkout of nix-community/nixpkgs.lib); see docs/nixos.md');
  t.pass('module evaluation skipped without nixpkgs.lib');
} else {
  const out = execFileSync('nix-instantiate', ['--eval', '--strict', '--json', join(REPO, 'nix/tests/eval.nix'), '--arg', 'lib', `import ${LIB}/lib`], { encoding: 'utf8' });
  const evaluated = JSON.parse(out) as {
    policies: Record<string, unknown>;
    options: string[];
    undocumented: string[];
    unit: Unit;
    unitWithFlushedNftables: Unit;
    unitWithHttp: Unit;
    servicesWhenDisabled: string[];
  };
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-nix-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  t.test('every option has a description', async (t) => {
    t.same(evaluated.undocumented.filter((o) => !o.includes('_module')), []);
    for (const o of ['enable', 'package', 'openPorts.tcp', 'denyNetworks', 'bans.allowlist', 'detectors.synFlood', 'payloadRules', 'queueNumber', 'failMode', 'logLevel', 'http.enable', 'http.listenAddress', 'http.port', 'settings']) {
      t.ok(evaluated.options.includes(`services.vpsfw.${o}`), `option ${o}`);
    }
  });

  for (const [name, policy] of Object.entries(evaluated.policies)) {
    t.test(`configuration ${name}`, async (t) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(policy));
      const r = spawnSync(process.execPath, [join(REPO, 'bin/vpsfw.js'), 'check', '--policy', file], { encoding: 'utf8' });
      if (name.startsWith('bad-')) {
        t.equal(r.status, 1, 'refused by vpsfw check');
        t.match(r.stderr, name === 'bad-cidr' ? /denyNetworks\.0: .*"10\.0\.0\.300\/8"/ : /unknown key "nonsense"/, 'with the agent\'s message');
      } else {
        t.equal(r.status, 0, r.stderr);
      }
    });
  }

  t.test('the unit: the shared hardening, the policy through /etc, early ordering', async (t) => {
    const { unit } = evaluated;
    for (const [key, value] of Object.entries(HARDENING)) {
      if (!key.startsWith('_')) t.same(unit.serviceConfig[key], value, `${key} from hardening.json`);
    }
    t.match(unit.serviceConfig.ExecStart, /\/bin\/vpsfw run --policy \/etc\/vpsfw\/policy\.json$/);
    t.match(unit.serviceConfig.ExecStartPost, /-S \/run\/vpsfw\/control\.sock/, 'started means the control socket is up');
    t.match(unit.serviceConfig.ExecReload, /kill -HUP \$MAINPID$/);
    t.match(unit.serviceConfig, { Restart: 'on-failure', StateDirectory: 'vpsfw', RuntimeDirectory: 'vpsfw' });
    t.same(unit.etc, ['vpsfw/policy.json', 'vpsfw/rules.txt']);
    t.match(unit.reloadTriggers[0], /vpsfw-policy\.json$/, 'a policy change reloads');
    t.same(unit.restartTriggers, ['0'], 'a queue change restarts');
    t.equal(unit.unitConfig.DefaultDependencies, false);
    for (const u of ['network-pre.target', 'sshd.service']) t.ok(unit.before.includes(u), `before ${u}`);
    t.same(unit.warnings, []);
    t.same(evaluated.servicesWhenDisabled, [], 'nothing when not enabled');
  });

  t.test('with nftables flushing the ruleset', async (t) => {
    const unit = evaluated.unitWithFlushedNftables;
    t.same(unit.partOf, ['nftables.service']);
    t.equal(unit.unitConfig.ReloadPropagatedFrom, 'nftables.service', 'rules re-applied after each nftables reload');
    t.ok(unit.after.includes('nftables.service'));
    t.equal(unit.warnings.length, 2, 'both judge every packet; a window without rules');
  });

  t.test('the HTTP listener: its address in the policy; the unit lets its clients in and restarts when it changes', async (t) => {
    t.notOk('IPAddressAllow' in evaluated.unit.serviceConfig, 'off: no IP traffic allowed');
    const unit = evaluated.unitWithHttp;
    t.same(unit.serviceConfig.IPAddressAllow, ['127.0.0.0/8', '::1/128'], 'on: loopback clients');
    t.equal(unit.serviceConfig.IPAddressDeny, 'any', 'and nothing else');
    t.same(unit.restartTriggers, ['0', '{"listen":"127.0.0.1:9469"}'], 'a reload refuses a new listener: a change restarts');
    t.same((evaluated.policies['http-beyond-loopback'] as { http: unknown }).http, { listen: '[::]:9100', allowFrom: ['10.0.0.0/24'] }, 'an IPv6 address in brackets; allowFrom from settings');
  });

  t.test('what the options produce', async (t) => {
    const web = evaluated.policies['web-server'] as { rules: Array<{ name: string; ports?: unknown[] }>; queue: unknown };
    t.same(web.rules.map((r) => r.name), ['ssh-office', 'open-tcp', 'open-udp', 'ping', 'ping6'], 'user rules first, then open ports');
    t.same(web.rules[1]!.ports, [22, 80, 443, '8000-8100']);
    const closed = evaluated.policies['fail-closed-with-settings'] as { queue: unknown; rateLimits: unknown[]; logging: unknown };
    t.same(closed.queue, { num: 7, failMode: 'closed' });
    t.equal(closed.rateLimits.length, 1, 'settings merged in');
    t.same(closed.logging, { level: 'debug', dropLogsPerSecond: 5 }, 'settings merged with the typed options');
  });
}
