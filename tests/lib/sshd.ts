// A real OpenSSH server (Debian's openssh-server) in a lab namespace, with its own configuration,
// host key, log file (`sshd -D -E FILE`) and a test user whose password is known: the user exists
// only in a private mount namespace (bind-mounted passwd and shadow), never on the host.
// A guesser is Debian's sshpass driving ssh. Everything is removed in the test's teardown.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from './netns.js';
import { waitFor } from './wait.js';

export const SSH_USER = 'vpsfwtest';
export const SSH_PASSWORD = 'right horse battery staple';

export interface Sshd {
  dir: string;
  log: string;
  port: number;
  child: ChildProcess;
  /** SIGHUP: sshd re-executes itself and opens its -E file again (after a rotation); resolves once it listens again. */
  hup(): Promise<void>;
}

export async function startSshd(t: { teardown(fn: () => unknown): void }, lab: Lab, opts: { port?: number; ns?: string } = {}): Promise<Sshd> {
  const port = opts.port ?? 2222;
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-sshd-'));
  const log = join(dir, 'sshd.log');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  const hash = execFileSync('openssl', ['passwd', '-6', SSH_PASSWORD], { encoding: 'utf8' }).trim();
  let passwd = readFileSync('/etc/passwd', 'utf8') + `${SSH_USER}:x:4242:4242::/tmp:/bin/sh\n`;
  if (!/^sshd:/m.test(passwd)) passwd += 'sshd:x:4243:65534::/run/sshd:/usr/sbin/nologin\n';
  writeFileSync(join(dir, 'passwd'), passwd);
  writeFileSync(join(dir, 'shadow'), readFileSync('/etc/shadow', 'utf8') + `${SSH_USER}:${hash}:19000:0:99999:7:::\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, 'sshd_config'),
    [`Port ${port}`, 'ListenAddress 0.0.0.0', 'ListenAddress ::', `HostKey ${join(dir, 'host_key')}`, 'PidFile none', 'UsePAM no', 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'StrictModes no', 'MaxStartups 100', 'LoginGraceTime 20', ''].join('\n'),
  );
  writeFileSync(log, '');
  // Its privilege-separation directory, as Debian's unit makes it.
  execFileSync('mkdir', ['-p', '/run/sshd']);
  const script = `mount --bind "$1/passwd" /etc/passwd && mount --bind "$1/shadow" /etc/shadow && exec /usr/sbin/sshd -D -E "$1/sshd.log" -f "$1/sshd_config"`;
  const child = lab.spawn(opts.ns ?? lab.server, 'unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  t.teardown(() => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 100; i++) {
    if (readFileSync(log, 'utf8').includes(`port ${port}`)) return { dir, log, port, child, hup: () => hup(child, log) };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not start: ${stderr} ${readFileSync(log, 'utf8')}`);
}

/**
 * Between the old sshd closing its sockets and the new one binding them a login is refused (exit
 * 255): the new process says when it listens again (both addresses), in its -E file from where it
 * stood before, or from the start of a new file after a rename.
 */
async function hup(child: ChildProcess, log: string): Promise<void> {
  const before = statSync(log, { throwIfNoEntry: false });
  child.kill('SIGHUP');
  await waitFor('sshd to listen again after SIGHUP', 10_000, async () => {
    const now = statSync(log, { throwIfNoEntry: false });
    if (!now) return false;
    const from = before?.ino === now.ino ? before.size : 0;
    return (readFileSync(log).subarray(from).toString('utf8').match(/Server listening on /g)?.length ?? 0) >= 2;
  });
}

/**
 * One login attempt with a password through sshpass, from `ns` (optionally bound to `local`).
 * Resolves with ssh's exit code: 0 logged in, 5 wrong password (sshpass), 255 no connection.
 */
export async function sshLogin(lab: Lab, ns: string, host: string, port: number, password: string, opts: { local?: string; user?: string } = {}): Promise<number> {
  const args = ['-p', password, 'ssh', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'ConnectTimeout=3', '-p', String(port)];
  if (opts.local) args.push('-b', opts.local);
  args.push(`${opts.user ?? SSH_USER}@${host}`, 'true');
  return (await lab.status(ns, 'sshpass', args, { timeoutMs: 20_000 })).code;
}
