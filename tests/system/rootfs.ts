// The Debian 12 roots the system tests use: built once with debootstrap, cached under a path these
// tests own, rebuilt when missing, incomplete or made from another package list. Each is built in a
// temporary directory and renamed into place only when complete, so a killed build is never reused.
// A cached root is never written to again: each run works on an overlay (see container.ts).
// Two kinds: the root the installed service boots in (PACKAGES), and a bare `--variant=minbase` one,
// a fresh minimal Debian 12 as a new user has it, for the README's first commands.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CACHE_DIR = process.env.VPSFW_SYSTEM_CACHE ?? '/var/cache/vpsfw-test';
export const SUITE = 'bookworm';

/**
 * What the booted container needs without a network: systemd as PID 1, the kernel tools the agent
 * drives, the NFQUEUE and NFLOG libraries its addon links, the small tools the test runs inside, and
 * an OpenSSH server whose journal the agent follows (tests/system/journal.system.ts).
 */
export const PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'iproute2',
  'iptables',
  'ipset',
  'libnetfilter-queue1',
  'libnetfilter-log1',
  'ca-certificates',
  'netcat-openbsd',
  'procps',
  'iputils-ping',
  'openssh-server',
] as const;

/** A cached root: its directory name and what debootstrap adds to minbase. */
export interface RootKind {
  name: string;
  packages: readonly string[];
}

export const SERVICE_ROOT: RootKind = { name: 'debian12-root', packages: PACKAGES };
export const MINIMAL_ROOT: RootKind = { name: 'debian12-minbase', packages: [] };

const MARKER = '.vpsfw-root.json';

interface Marker {
  suite: string;
  packages: string[];
}

/**
 * The Debian mirror this host's apt uses for `bookworm` (Debian's archive is reachable here,
 * nothing else), read from /etc/apt/sources.list and sources.list.d (one-line and deb822 forms).
 */
export function debianMirror(aptDir = '/etc/apt'): string {
  const files = [join(aptDir, 'sources.list')];
  const d = join(aptDir, 'sources.list.d');
  if (existsSync(d)) files.push(...readdirSync(d).filter((f) => f.endsWith('.list') || f.endsWith('.sources')).map((f) => join(d, f)));
  for (const file of files.filter((f) => existsSync(f))) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
        if (field('Types').includes('deb') && field('Suites').includes(SUITE) && field('Enabled')[0] !== 'no') {
          const uri = field('URIs')[0];
          if (uri) return uri;
        }
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
        if (m && m[2] === SUITE) return m[1]!;
      }
    }
  }
  throw new Error(`no apt source for Debian ${SUITE} in ${aptDir}/sources.list(.d): debootstrap needs a Debian mirror`);
}

function isComplete(root: string, kind: RootKind): boolean {
  try {
    const m = JSON.parse(readFileSync(join(root, MARKER), 'utf8')) as Marker;
    return m.suite === SUITE && m.packages.join(' ') === kind.packages.join(' ') && existsSync(join(root, kind.packages.length > 0 ? 'lib/systemd/systemd' : 'usr/bin/apt-get'));
  } catch {
    return false;
  }
}

/** The cached root's path, built first when needed. `onBuild` hears how long debootstrap took. */
export async function ensureRoot(opts: { onBuild?: (ms: number) => void; kind?: RootKind } = {}): Promise<string> {
  const kind = opts.kind ?? SERVICE_ROOT;
  const root = join(CACHE_DIR, kind.name);
  if (isComplete(root, kind)) return root;
  // Leftovers of killed builds (never one still running), and an incomplete or outdated root.
  for (const name of existsSync(CACHE_DIR) ? readdirSync(CACHE_DIR) : []) {
    const builder = Number(name.startsWith(`${kind.name}.tmp-`) ? name.slice(kind.name.length + 5) : NaN);
    if (Number.isInteger(builder) && !alive(builder)) rmSync(join(CACHE_DIR, name), { recursive: true, force: true });
  }
  rmSync(root, { recursive: true, force: true });
  const tmp = `${root}.tmp-${process.pid}`;
  await run('mkdir', ['-p', dirname(tmp)]);
  const started = Date.now();
  try {
    const include = kind.packages.length > 0 ? [`--include=${kind.packages.join(',')}`] : [];
    await run('debootstrap', ['--variant=minbase', ...include, SUITE, tmp, debianMirror()], {
      timeout: 15 * 60_000,
      maxBuffer: 64 << 20,
    });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const e = err as { stderr?: string; message: string };
    throw new Error(`debootstrap failed: ${e.message}\n${e.stderr ?? ''}`);
  }
  writeFileSync(join(tmp, MARKER), JSON.stringify({ suite: SUITE, packages: [...kind.packages] } satisfies Marker));
  renameSync(tmp, root);
  opts.onBuild?.(Date.now() - started);
  return root;
}

/** Whether a process of this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
