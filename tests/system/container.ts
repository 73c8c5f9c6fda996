// A throwaway Debian 12 machine with real systemd as PID 1, made of namespaces: the cached root
// (rootfs.ts) under an overlay whose writable layer belongs to this run, booted under
// `unshare --pid --mount --uts --ipc --net --cgroup` + chroot, driven with nsenter, and linked by a
// veth pair to a client namespace on documentation addresses (192.0.2.0/24, 2001:db8::/64).
//
// What keeps the host safe: the container has its own network namespace from the first instruction
// (the agent's rules land there), /proc/sys and /sys are read-only inside (systemd-sysctl and friends
// cannot reach the host's kernel settings), /dev is a private tmpfs, the overlay and every other
// mount live only in the container's own mount namespace, and its cgroup is ours. Everything is torn
// down on destroy(), at process exit and on SIGINT/SIGTERM, and a later run sweeps what a killed run left.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { alive, CACHE_DIR } from './rootfs.js';

const run = promisify(execFile);

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOpts {
  timeoutMs?: number;
  input?: string;
}

export interface ChrootOpts extends ExecOpts {
  /**
   * /proc/sys/net writable (every other sysctl stays read-only): for programs that make network
   * namespaces and set their net.* sysctls, as the demo and the tests do. The chroot has the host's
   * network, so this is as open as running them on the host itself, and no more.
   */
  netSysctls?: boolean;
}

export interface Client {
  ns: string;
  ip4: string;
  ip6: string;
  /** A second address on the client's link, for a source the test wants banned. */
  alt4: string;
  /** The container's addresses on the link. */
  server4: string;
  server6: string;
  status(cmd: string, args: string[], opts?: ExecOpts): Promise<Result>;
}

export interface Container {
  /** The host PID of the container's PID 1 (systemd), once booted. */
  readonly pid: number;
  readonly runDir: string;
  /** Runs a command inside (nsenter into every namespace and the root); never rejects. */
  status(cmd: string, args: string[], opts?: ExecOpts): Promise<Result>;
  /** Like status, but rejects with the command's output when it exits non-zero. */
  exec(cmd: string, args: string[], opts?: ExecOpts): Promise<Result>;
  writeFile(path: string, content: string): Promise<void>;
  readFile(path: string): Promise<string>;
  client: Client;
  /** Seconds from launch until `systemctl is-system-running` answered running/degraded. */
  bootSeconds: number;
  /** Powers the machine off (bounded), kills what is left, removes the client namespace and the run's files. */
  destroy(): Promise<void>;
}

/** The root as the installer sees it before boot: a plain chroot with the host's network, nothing booted. */
export interface Workspace {
  readonly runDir: string;
  /** Copies host paths into the root (`dest` is a path inside it). */
  copyIn(sources: string[], dest: string): Promise<void>;
  writeFile(path: string, content: string): Promise<void>;
  /** Runs a command in a plain chroot (fresh /proc, /dev, /sys; host network), in its own PID namespace. */
  chroot(cmd: string, args: string[], opts?: ChrootOpts): Promise<Result>;
  /** Boots systemd in the root; the workspace is then the container's (call destroy() on the container). */
  boot(opts?: { bootTimeoutMs?: number }): Promise<Container>;
  /** Removes the run's files when the test never booted. */
  destroy(): Promise<void>;
}

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NET = { server4: '192.0.2.1', client4: '192.0.2.2', alt4: '192.0.2.3', server6: '2001:db8::1', client6: '2001:db8::2' };
let counter = 0;

// ---- the overlay, mounted only inside the namespaces that use it ------------------------------

const OVERLAY = `mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$RUN/upper,workdir=$RUN/work" "$R"`;

/** Mounts the API file systems a chroot needs, under "$R" (already inside a private mount namespace). */
const API_MOUNTS = `
mount -t proc proc "$R/proc"
mount --bind "$R/proc/sys" "$R/proc/sys"
# net.* writable when asked (NET_SYSCTLS), mounted before /proc/sys goes read-only.
if [ -n "\${NET_SYSCTLS:-}" ]; then mount --bind "$R/proc/sys/net" "$R/proc/sys/net"; fi
mount -o remount,bind,ro "$R/proc/sys"
if [ -e "$R/proc/sysrq-trigger" ]; then
  mount --bind "$R/proc/sysrq-trigger" "$R/proc/sysrq-trigger"; mount -o remount,bind,ro "$R/proc/sysrq-trigger"
fi
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o mode=755,nosuid tmpfs "$R/dev"
mknod -m 666 "$R/dev/null" c 1 3; mknod -m 666 "$R/dev/zero" c 1 5; mknod -m 666 "$R/dev/full" c 1 7
mknod -m 666 "$R/dev/random" c 1 8; mknod -m 666 "$R/dev/urandom" c 1 9; mknod -m 666 "$R/dev/tty" c 5 0
mkdir -m 755 "$R/dev/pts" && mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mkdir -m 1777 "$R/dev/shm" && mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"; ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/tmp"
`;

/** PID 1 of the container: mounts, a cgroup2 view of its own subtree, tmpfs /run, then systemd. */
const BOOT = `set -e
${OVERLAY}
${API_MOUNTS}
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$R/sys/fs/cgroup"
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$R/run"
exec chroot "$R" /usr/bin/env -i container=other ${PATH} /lib/systemd/systemd
`;

const CHROOT = `set -e
${OVERLAY}
${API_MOUNTS}
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$R/run"
exec chroot "$R" /usr/bin/env -i ${PATH} HOME=/root LANG=C.UTF-8 "$@"
`;

const COPY = `set -e
${OVERLAY}
dest="$R/$1"; shift
mkdir -p "$dest"
cp -a "$@" "$dest/"
`;

const WRITE = `set -e
${OVERLAY}
mkdir -p "$(dirname "$R/$1")"
cat > "$R/$1"
`;

// ---- process helpers ---------------------------------------------------------------------------

async function status(cmd: string, args: string[], opts: ExecOpts & { env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  try {
    const p = run(cmd, args, { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20, env: opts.env ?? process.env });
    // A command that never reads its input closes the pipe early: not an error of ours.
    p.child.stdin?.on('error', () => undefined);
    p.child.stdin?.end(opts.input ?? '');
    const r = await p;
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: unknown; killed?: boolean; stdout?: string; stderr?: string; message: string };
    const code = typeof e.code === 'number' ? e.code : -1;
    return { code, stdout: e.stdout ?? '', stderr: (e.stderr ?? '') + (e.killed ? `\n[killed: timeout]` : code === -1 ? `\n[${e.message}]` : '') };
  }
}

function check(what: string, r: Result): Result {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- cgroup: the container's own subtree of the host's cgroup v2 hierarchy --------------------

function cgroupRoot(): string {
  const fsType = (p: string) => execFileSync('stat', ['-fc', '%T', p], { encoding: 'utf8' }).trim();
  if (fsType('/sys/fs/cgroup') === 'cgroup2fs') return '/sys/fs/cgroup';
  if (existsSync('/sys/fs/cgroup/unified') && fsType('/sys/fs/cgroup/unified') === 'cgroup2fs') return '/sys/fs/cgroup/unified';
  throw new Error('no cgroup v2 hierarchy on this host (needed for the container\'s own cgroup)');
}

function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  writeFileSync(join(dir, 'cgroup.kill'), '1');
  for (let i = 0; i < 50; i++) {
    try {
      execFileSync('find', [dir, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { stdio: 'ignore' });
    } catch {
      /* some still busy */
    }
    if (!existsSync(dir)) return;
    execFileSync('sleep', ['0.1']);
  }
}

// ---- cleanup that works at exit, on signals, and for a run that was killed ---------------------

interface RunRecord {
  runDir: string;
  cgroup: string;
  clientNs: string;
}

const live = new Map<string, RunRecord>();

function cleanupSync(rec: RunRecord): void {
  // Killing the cgroup kills the container's PID 1, hence its whole PID namespace (processes
  // nsenter put there included) and its mounts; by cgroup, so a reused PID is never hit.
  removeCgroup(rec.cgroup);
  try {
    execFileSync('ip', ['netns', 'del', rec.clientNs], { stdio: 'ignore' });
  } catch {
    /* never made or already gone */
  }
  rmSync(rec.runDir, { recursive: true, force: true });
  live.delete(rec.runDir);
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const rec of [...live.values()]) cleanupSync(rec);
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const rec of [...live.values()]) cleanupSync(rec);
      process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    });
  }
}

/** Removes what runs of dead test processes left: containers, namespaces, cgroups, overlays. */
function sweepStale(): void {
  const runs = join(CACHE_DIR, 'runs');
  if (!existsSync(runs)) return;
  for (const name of readdirSync(runs)) {
    const owner = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!Number.isFinite(owner) || alive(owner)) continue;
    try {
      cleanupSync(JSON.parse(readFileSync(join(runs, name, 'run.json'), 'utf8')) as RunRecord);
    } catch {
      rmSync(join(runs, name), { recursive: true, force: true });
    }
  }
}

// ---- the workspace and the container -----------------------------------------------------------

/** A fresh writable layer over the cached root `lower`. */
export function workspace(lower: string): Workspace {
  hookExit();
  sweepStale();
  const id = `${process.pid}-${counter++}`;
  const runDir = join(CACHE_DIR, 'runs', id);
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(runDir, d), { recursive: true });
  const rec: RunRecord = { runDir, cgroup: join(cgroupRoot(), `vpsfw-test-${id}`), clientNs: `vsys${process.pid}x${counter}` };
  const save = () => writeFileSync(join(runDir, 'run.json'), JSON.stringify(rec));
  save();
  live.set(runDir, rec);
  const env = { ...process.env, LOWER: lower, RUN: runDir, R: join(runDir, 'merged') };
  const inMountNs = (script: string, args: string[], opts: ExecOpts = {}) =>
    status('unshare', ['--mount', '--propagation', 'private', '--', 'bash', '-c', script, 'bash', ...args], { ...opts, env });

  const ws: Workspace = {
    runDir,
    copyIn: async (sources, dest) => void check(`copy ${sources.join(' ')} to ${dest}`, await inMountNs(COPY, [dest, ...sources], { timeoutMs: 300_000 })),
    writeFile: async (path, content) => void check(`write ${path}`, await inMountNs(WRITE, [path], { input: content })),
    chroot: (cmd, args, opts = {}) =>
      status('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--', 'bash', '-c', CHROOT, 'bash', cmd, ...args], {
        timeoutMs: opts.timeoutMs ?? 600_000,
        input: opts.input,
        env: opts.netSysctls ? { ...env, NET_SYSCTLS: '1' } : env,
      }),
    boot: async (opts = {}) => {
      const started = Date.now();
      mkdirSync(rec.cgroup);
      const consoleFd = openSync(join(runDir, 'console.log'), 'a');
      // Into our cgroup first, then the namespaces: systemd's cgroup namespace is rooted at rec.cgroup.
      const launcher: ChildProcess = spawn(
        'sh',
        ['-c', 'echo $$ > "$CG/cgroup.procs" && exec unshare --pid --fork --mount --propagation private --uts --ipc --net --cgroup -- bash -c "$BOOT"'],
        { env: { ...env, CG: rec.cgroup, BOOT }, stdio: ['ignore', consoleFd, consoleFd], detached: true },
      );
      closeSync(consoleFd);
      const exited = new Promise<void>((r) => launcher.once('exit', () => r()));
      let pid = 0;
      for (let i = 0; i < 100 && pid === 0; i++) {
        await sleep(100);
        if (launcher.exitCode !== null) break;
        try {
          const child = Number(readFileSync(`/proc/${launcher.pid}/task/${launcher.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
          if (child > 0 && readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'systemd') pid = child;
        } catch {
          /* not forked yet, or already gone: the loop's end says which */
        }
      }
      if (pid === 0) {
        const output = readConsole(runDir);
        cleanupSync(rec);
        throw new Error(`systemd did not start as the container's PID 1; console:\n${output}`);
      }
      const container = makeContainer(rec, pid, exited);
      try {
        await container.waitBooted(opts.bootTimeoutMs ?? 90_000);
        container.bootSeconds = (Date.now() - started) / 1000;
        await link(container, rec.clientNs);
      } catch (err) {
        await container.destroy();
        throw err;
      }
      return container;
    },
    destroy: async () => cleanupSync(rec),
  };
  return ws;
}

function readConsole(runDir: string): string {
  try {
    return readFileSync(join(runDir, 'console.log'), 'utf8').slice(-4000);
  } catch {
    return '(no console output)';
  }
}

function makeContainer(rec: RunRecord, pid: number, exited: Promise<void>): Container & { waitBooted(ms: number): Promise<void> } {
  const nsenter = (cmd: string, args: string[], opts: ExecOpts = {}) =>
    status('nsenter', ['-t', String(pid), '-m', '-p', '-u', '-i', '-n', '-C', '-r', '-w', '--', '/usr/bin/env', '-i', PATH, 'HOME=/root', 'LANG=C.UTF-8', cmd, ...args], opts);
  let destroyed = false;
  const c: Container & { waitBooted(ms: number): Promise<void> } = {
    pid,
    runDir: rec.runDir,
    bootSeconds: 0,
    status: nsenter,
    exec: async (cmd, args, opts) => check(`${cmd} ${args.join(' ')}`, await nsenter(cmd, args, opts)),
    writeFile: async (path, content) => void check(`write ${path}`, await nsenter('sh', ['-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', path], { input: content })),
    readFile: async (path) => (await c.exec('cat', [path])).stdout,
    client: {
      ns: rec.clientNs,
      ip4: NET.client4,
      ip6: NET.client6,
      alt4: NET.alt4,
      server4: NET.server4,
      server6: NET.server6,
      status: (cmd, args, opts) => status('ip', ['netns', 'exec', rec.clientNs, cmd, ...args], opts),
    },
    waitBooted: async (ms) => {
      const deadline = Date.now() + ms;
      let last: Result = { code: -1, stdout: '', stderr: '' };
      while (Date.now() < deadline) {
        last = await nsenter('systemctl', ['is-system-running', '--wait'], { timeoutMs: Math.max(1000, deadline - Date.now()) });
        const state = last.stdout.trim();
        if (state === 'running' || state === 'degraded') return;
        await sleep(250);
      }
      throw new Error(`the container did not finish booting within ${ms} ms (last answer: ${JSON.stringify(last)}); console:\n${readConsole(rec.runDir)}`);
    },
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      if (alive(pid)) {
        await nsenter('systemctl', ['poweroff'], { timeoutMs: 10_000 });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
        clearTimeout(timer);
      }
      cleanupSync(rec);
    },
  };
  return c;
}

/** A veth pair between the container's network namespace and a new client namespace. */
async function link(c: Container, clientNs: string): Promise<void> {
  const ip = async (args: string[]) => check(`ip ${args.join(' ')}`, await status('ip', args));
  const inside = async (args: string[]) => check(`ip ${args.join(' ')} (container)`, await status('nsenter', ['-t', String(c.pid), '-n', 'ip', ...args]));
  await ip(['netns', 'add', clientNs]);
  const tag = clientNs.slice(-8);
  await ip(['link', 'add', `c${tag}`, 'netns', clientNs, 'type', 'veth', 'peer', 'name', `s${tag}`, 'netns', String(c.pid)]);
  await ip(['-n', clientNs, 'link', 'set', 'lo', 'up']);
  await ip(['-n', clientNs, 'link', 'set', `c${tag}`, 'name', 'eth0']);
  await ip(['-n', clientNs, 'addr', 'add', `${NET.client4}/24`, 'dev', 'eth0']);
  await ip(['-n', clientNs, 'addr', 'add', `${NET.alt4}/24`, 'dev', 'eth0']);
  await ip(['-n', clientNs, 'addr', 'add', `${NET.client6}/64`, 'dev', 'eth0', 'nodad']);
  await ip(['-n', clientNs, 'link', 'set', 'eth0', 'up']);
  await inside(['link', 'set', 'lo', 'up']);
  await inside(['link', 'set', `s${tag}`, 'name', 'eth0']);
  await inside(['addr', 'add', `${NET.server4}/24`, 'dev', 'eth0']);
  await inside(['addr', 'add', `${NET.server6}/64`, 'dev', 'eth0', 'nodad']);
  await inside(['link', 'set', 'eth0', 'up']);
}

/**
 * The host's certificate authorities in the root, where they survive Debian's update-ca-certificates
 * (run when apt installs ca-certificates or a package that triggers it): npm reaches the registry
 * through them, as on the host (behind a TLS-inspecting proxy, its CA is in the host's bundle).
 */
export async function trustHostCertificates(ws: Workspace): Promise<void> {
  const bundle = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8');
  await ws.writeFile('/etc/ssl/certs/ca-certificates.crt', bundle);
  await ws.writeFile('/usr/local/share/ca-certificates/host-bundle.crt', bundle);
}
