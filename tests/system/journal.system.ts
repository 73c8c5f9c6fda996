// The journal log source under real systemd: Debian's ssh.service logs to the journal, the agent
// runs as the units agent/packaging/unit.mjs makes for a policy that follows that journal (the
// journal's group granted, nothing more), a guesser from the client namespace is banned after
// maxRetry wrong passwords and its packets dropped, and an agent restart resumes after the saved
// cursor: the failures before it are not counted again.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workspace, type Container } from './container.js';
import { ensureRoot } from './rootfs.js';
import { waitFor } from '../lib/wait.js';

const REPO = join(import.meta.dirname, '..', '..');
const PREFIX = '/opt/vpsfw';
/** The layout the units run (the installer's: PREFIX/current is the release, with its Node.js). */
const CURRENT = `${PREFIX}/current`;
const NODE = `${CURRENT}/node/bin/node`;
const POLICY = '/etc/vpsfw/policy.json';
const USER = 'alice';
const PASSWORD = 'correct horse battery staple';

const policy = {
  version: 1,
  rules: [
    { name: 'ssh', action: 'accept', protocol: 'tcp', ports: [22] },
    { name: 'ping', action: 'accept', protocol: 'icmp' },
  ],
  logSources: [{ name: 'sshd', kind: 'sshd', journal: 'ssh.service', maxRetry: 3, findTime: '10m', ban: '1h' }],
};

function helpers(c: Container) {
  const vpsfw = (...args: string[]) => c.exec(NODE, [`${CURRENT}/bin/vpsfw.js`, ...args], { timeoutMs: 20_000 });
  return {
    events: async () => (await c.exec('journalctl', ['-u', 'vpsfw', '-o', 'cat', '--no-pager'])).stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>),
    bans: async () => JSON.parse((await vpsfw('bans', '--json')).stdout) as Array<{ address: string; by: string }>,
    status: async () => JSON.parse((await vpsfw('status', '--json')).stdout) as { logSources: Array<{ records: number; failures: number }> },
    /** One password login from the client namespace, from `from`: 0 in, 5 refused, 255 no connection. */
    login: async (from: string, password: string) =>
      (await c.client.status('sshpass', ['-p', password, 'ssh', '-b', from, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'ConnectTimeout=3', `${USER}@${c.client.server4}`, 'true'], { timeoutMs: 30_000 })).code,
    reach: async (from: string) => (await c.client.status('nc', ['-z', '-w', '2', '-s', from, c.client.server4, '22'], { timeoutMs: 10_000 })).code === 0,
  };
}

t.test('the sshd journal source under systemd', async (t) => {
  const root = await ensureRoot({ onBuild: (ms) => t.comment(`debootstrap: ${(ms / 1000).toFixed(1)} s`) });
  const ws = workspace(root);
  t.teardown(() => ws.destroy());
  await ws.copyIn(['agent', 'bin', 'package.json', 'node_modules'].map((p) => join(REPO, p)), CURRENT);
  await ws.copyIn([process.execPath], `${CURRENT}/node/bin`);
  await ws.writeFile(POLICY, JSON.stringify(policy, null, 2));
  const local = mkdtempSync(join(tmpdir(), 'vpsfw-journal-'));
  t.teardown(() => rmSync(local, { recursive: true, force: true }));
  writeFileSync(join(local, 'policy.json'), JSON.stringify(policy));
  const unit = (which: string) => execFileSync(process.execPath, [join(REPO, 'agent/packaging/unit.mjs'), which, '--prefix', PREFIX, '--policy', POLICY, '--log-access', join(local, 'policy.json')], { encoding: 'utf8' });
  const agent = unit('agent');
  t.match(agent, /^SupplementaryGroups=systemd-journal$/m, 'the agent\'s unit may read the journal');
  await ws.writeFile('/etc/systemd/system/vpsfw.service', agent);
  await ws.writeFile('/etc/systemd/system/vpsfw-rules.service', unit('rules'));
  const setup = await ws.chroot('sh', ['-c', `useradd -m -s /bin/sh ${USER} && echo '${USER}:${PASSWORD}' | chpasswd && mkdir -p /etc/systemd/system/multi-user.target.wants && ln -sf /etc/systemd/system/vpsfw.service /etc/systemd/system/multi-user.target.wants/vpsfw.service`]);
  t.equal(setup.code, 0, setup.stderr);

  const c = await ws.boot();
  t.teardown(() => c.destroy());
  const h = helpers(c);
  await waitFor('vpsfw and ssh active', 60_000, async () => (await c.status('systemctl', ['is-active', 'vpsfw', 'ssh'])).stdout.trim() === 'active\nactive');
  await waitFor('the journal source', 20_000, async () => (await h.events()).find((e) => e.event === 'log-source' && e.state === 'started'));
  const pid = (await c.exec('systemctl', ['show', 'vpsfw', '-p', 'MainPID', '--value'])).stdout.trim();
  const gid = (await c.exec('getent', ['group', 'systemd-journal'])).stdout.split(':')[2];
  t.match((await c.exec('cat', [`/proc/${pid}/status`])).stdout, new RegExp(`^Groups:.*\\b${gid}\\b`, 'm'), 'the agent runs with the journal\'s group');

  const guesser = c.client.alt4;
  t.ok(await h.reach(guesser), 'the guesser reaches port 22');
  for (let i = 1; i <= 2; i++) t.equal(await h.login(guesser, `wrong-${i}`), 5, `wrong password ${i}`);
  t.notOk((await h.bans()).some((b) => b.address === guesser), 'not banned after 2');
  t.equal(await h.login(guesser, 'wrong-3'), 5);
  const ban = await waitFor('the ban', 20_000, async () => (await h.bans()).find((b) => b.address === guesser)).catch(async (err) => {
    t.comment((await c.status('journalctl', ['-u', 'ssh', '-o', 'json', '--no-pager', '-n', '20'])).stdout);
    t.comment(JSON.stringify((await h.events()).filter((e) => e.event !== 'stats').slice(-10)));
    throw err;
  });
  t.equal(ban.by, 'log:sshd');
  t.notOk(await h.reach(guesser), 'the banned guesser\'s packets are dropped');
  t.equal(await h.login(c.client.ip4, PASSWORD), 0, 'the user logs in from another address');

  // A restart resumes after the saved cursor: two failures before it, then one: not banned.
  const client = c.client.ip4;
  for (let i = 1; i <= 2; i++) t.equal(await h.login(client, `typo-${i}`), 5);
  await waitFor('the failures counted', 20_000, async () => (await h.status()).logSources[0]!.failures >= 4); // the guesser's two, and these
  // …and every line of those sessions read (sshd logs the close a moment after the failure).
  let records = -1;
  await waitFor('the journal read to its end', 20_000, async () => {
    const now = (await h.status()).logSources[0]!.records;
    const still = now === records;
    records = now;
    if (!still) await new Promise((r) => setTimeout(r, 1500));
    return still;
  });
  await c.exec('systemctl', ['restart', 'vpsfw']);
  await waitFor('vpsfw active again', 30_000, async () => (await c.status('systemctl', ['is-active', 'vpsfw'])).stdout.trim() === 'active');
  const restarted = await waitFor('the source resumed', 20_000, async () => (await h.events()).filter((e) => e.event === 'log-source' && e.state === 'started').at(-1));
  t.equal(restarted.from, 'saved', 'journalctl started after the saved cursor');
  t.equal(await h.login(client, 'typo-3'), 5);
  await waitFor('the failure counted', 20_000, async () => (await h.status()).logSources[0]!.failures >= 1);
  t.equal((await h.status()).logSources[0]!.failures, 1, 'only the new failure was read: none read twice');
  t.notOk((await h.bans()).some((b) => b.address === client), 'not banned: the old failures were not counted again');
  for (let i = 4; i <= 5; i++) t.equal(await h.login(client, `typo-${i}`), 5);
  await waitFor('the ban after three new failures', 20_000, async () => (await h.bans()).find((b) => b.address === client));
});
