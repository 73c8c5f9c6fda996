// The installer's CrowdSec registration (register_crowdsec in install.sh), run on its own in a
// private mount namespace whose /etc is an empty tmpfs (the host's /etc is never written), with a
// `cscli` that records its calls: the bouncer and the machine are registered once, the secrets
// are root's alone, the unit gets them as credentials with the LAPI's address allowed, and the
// policy gains a crowdsec section the agent accepts. A second run changes nothing.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('../../', import.meta.url).pathname;
const INSTALL = join(REPO, 'agent/packaging/ubuntu/install.sh');

/** The installer's helpers and the function under test, without its main part. */
function functions(): string {
  const text = readFileSync(INSTALL, 'utf8');
  const pick = (name: string) => {
    const m = new RegExp(`^${name}\\(\\) \\{[\\s\\S]*?^\\}`, 'm').exec(text);
    if (!m) throw new Error(`install.sh has no ${name}()`);
    return m[0];
  };
  return ['say() { echo "vpsfw-install: $*"; }', 'die() { echo "vpsfw-install: $*" >&2; exit 1; }', 'host() { [ -z "$ROOT" ]; }', pick('put'), pick('register_crowdsec')].join('\n');
}

t.test('registers once with a local cscli; a re-run changes nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-inst-cs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'cscli'),
    `#!/bin/sh
echo "$*" >> ${dir}/calls
case "$*" in
  "config show --key Config.API.Server.ListenURI") echo 127.0.0.1:8080 ;;
  "bouncers add "*) echo the-bouncer-key ;;
esac
`,
  );
  chmodSync(join(dir, 'cscli'), 0o755);
  // A release as install.sh lays one out: its Node.js and this checkout's CLI.
  const release = join(dir, 'release');
  mkdirSync(join(release, 'node/bin'), { recursive: true });
  mkdirSync(join(release, 'bin'));
  symlinkSync(process.execPath, join(release, 'node/bin/node'));
  symlinkSync(join(REPO, 'bin/vpsfw.js'), join(release, 'bin/vpsfw.js'));
  const script = `set -euo pipefail
mount -t tmpfs tmpfs /etc
mkdir -p /etc/vpsfw && echo '{"version":1}' > /etc/vpsfw/policy.json
ROOT="" DRY=0 CHANGED=0 POLICY=/etc/vpsfw/policy.json PREFIX=/opt/vpsfw UNIT_DIR=/etc/systemd/system RELEASE_DIR=${release}
${functions()}
register_crowdsec
first=$(find /etc -type f -exec sha256sum {} + | sort)
register_crowdsec
[ "$first" = "$(find /etc -type f -exec sha256sum {} + | sort)" ] && echo SAME
stat -c '%a %n' /etc/vpsfw/crowdsec /etc/vpsfw/crowdsec/bouncer.key /etc/vpsfw/crowdsec/machine.password
echo ---; cat /etc/systemd/system/vpsfw.service.d/crowdsec.conf; echo ---; cat /etc/vpsfw/policy.json; echo ---; cat /etc/vpsfw/crowdsec/bouncer.key
`;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'bash', '-c', script], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, timeout: 120_000 });
  t.equal(r.status, 0, r.stderr);
  const [head = '', dropin = '', policy = '', key = ''] = r.stdout.split('---\n');
  const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
  t.equal(calls.filter((c) => c.startsWith('bouncers add vpsfw-')).length, 1, 'one bouncer registered');
  t.match(calls.find((c) => c.startsWith('machines add vpsfw-')), /--password [0-9a-f]{48}$/, 'one machine, with a random password');
  t.match(head, /SAME/, 'the second run changed nothing');
  t.match(head, /700 \/etc\/vpsfw\/crowdsec\n600 \/etc\/vpsfw\/crowdsec\/bouncer\.key\n600 \/etc\/vpsfw\/crowdsec\/machine\.password/, "the secrets are root's alone");
  t.equal(key.trim(), 'the-bouncer-key');
  t.match(dropin, /LoadCredential=crowdsec-bouncer-key:\/etc\/vpsfw\/crowdsec\/bouncer\.key\nLoadCredential=crowdsec-machine-password:\/etc\/vpsfw\/crowdsec\/machine\.password\nIPAddressAllow=127\.0\.0\.1\n/);
  const p = JSON.parse(policy) as { crowdsec: { url: string; bouncerKeyFile: string; machine: { login: string; passwordFile: string } } };
  t.match(p.crowdsec, { url: 'http://127.0.0.1:8080/', bouncerKeyFile: '/run/credentials/vpsfw.service/crowdsec-bouncer-key', machine: { login: /^vpsfw-/, passwordFile: '/run/credentials/vpsfw.service/crowdsec-machine-password' } });
});

t.test('without cscli: nothing written, and it says where to read on', async (t) => {
  const script = `set -euo pipefail
ROOT="" DRY=0 CHANGED=0 PREFIX=/opt/vpsfw
command() { [ "$2" != cscli ] && builtin command "$@"; }
${functions()}
register_crowdsec`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  t.equal(r.status, 0);
  t.match(r.stdout, /no local CrowdSec \(cscli\): .*\/opt\/vpsfw\/docs\/fleet\.md/);
});
