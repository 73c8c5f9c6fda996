// A network lab for the demo and the end-to-end tests: a `server` namespace joined by its own veth pair to each
// peer namespace (`attacker`, `client`). Every packet a test sends stays inside namespaces made
// here, on documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
// Namespaces are removed on teardown, at process exit, and (if a crashed run left any) on the
// next run, so the host is never left with ours.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** Every lab namespace's name starts so, then the process's pid. */
export const PREFIX = 'vt';

export interface Peer {
  ns: string;
  ip4: string;
  ip6: string;
  /** The server's address on this peer's link. */
  server4: string;
  server6: string;
}

export interface Lab {
  server: string;
  attacker: Peer;
  client: Peer;
  /** An extra address the attacker can send from that the server routes back to it: a "denied network" source. */
  denied4: string;
  denied6: string;
  /** Runs a command in a namespace; resolves with its output, rejects on a non-zero exit. */
  exec(ns: string, cmd: string, args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<{ stdout: string; stderr: string }>;
  /** Like exec, but resolves with the exit status instead of rejecting. */
  status(ns: string, cmd: string, args: string[], opts?: { timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
  spawn(ns: string, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** Gives the attacker another address on its link (192.0.2.10 + n, 2001:db8:1::10 + n): one source per scene. */
  attackerAlias(n: number): Promise<{ ip4: string; ip6: string }>;
  destroy(): Promise<void>;
}

let counter = 0;
const live = new Set<string>();

process.once('exit', () => {
  for (const ns of live) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
});

function sweepStale(): void {
  let list = '';
  try {
    list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^vt(\d+)x/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

async function sh(args: string[]): Promise<void> {
  await run('ip', args);
}

export async function makeLab(): Promise<Lab> {
  sweepStale();
  const id = `${PREFIX}${process.pid}x${counter++}`;
  const server = `${id}s`;
  const names = { attacker: `${id}a`, client: `${id}c` };
  const created: string[] = [];
  const destroy = async () => {
    for (const ns of created.reverse()) {
      await run('ip', ['netns', 'del', ns]).catch(() => undefined);
      live.delete(ns);
    }
  };
  try {
    for (const ns of [server, names.attacker, names.client]) {
      await sh(['netns', 'add', ns]);
      created.push(ns);
      live.add(ns);
      await sh(['-n', ns, 'link', 'set', 'lo', 'up']);
      // No DAD and no router solicitations: the lab must be ready at once and quiet.
      for (const k of ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']) {
        await run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', k]);
      }
    }
    const peers: Peer[] = [];
    const links = [
      { ns: names.attacker, net: 1, v4: '192.0.2' },
      { ns: names.client, net: 2, v4: '198.51.100' },
    ];
    for (const l of links) {
      const sIf = `s${l.net}`;
      const pIf = `p${l.net}`;
      await sh(['link', 'add', `${id}${sIf}`, 'netns', server, 'type', 'veth', 'peer', 'name', `${id}${pIf}`, 'netns', l.ns]);
      await sh(['-n', server, 'link', 'set', `${id}${sIf}`, 'name', sIf]);
      await sh(['-n', l.ns, 'link', 'set', `${id}${pIf}`, 'name', 'eth0']);
      await sh(['-n', server, 'addr', 'add', `${l.v4}.1/24`, 'dev', sIf]);
      await sh(['-n', server, 'addr', 'add', `2001:db8:${l.net}::1/64`, 'dev', sIf, 'nodad']);
      await sh(['-n', l.ns, 'addr', 'add', `${l.v4}.2/24`, 'dev', 'eth0']);
      await sh(['-n', l.ns, 'addr', 'add', `2001:db8:${l.net}::2/64`, 'dev', 'eth0', 'nodad']);
      await sh(['-n', server, 'link', 'set', sIf, 'up']);
      await sh(['-n', l.ns, 'link', 'set', 'eth0', 'up']);
      await sh(['-n', l.ns, 'route', 'add', 'default', 'via', `${l.v4}.1`]);
      await sh(['-n', l.ns, '-6', 'route', 'add', 'default', 'via', `2001:db8:${l.net}::1`]);
      peers.push({ ns: l.ns, ip4: `${l.v4}.2`, ip6: `2001:db8:${l.net}::2`, server4: `${l.v4}.1`, server6: `2001:db8:${l.net}::1` });
    }
    // The attacker's "denied network" addresses, routed back to it by the server.
    await sh(['-n', names.attacker, 'addr', 'add', '203.0.113.5/32', 'dev', 'lo']);
    await sh(['-n', names.attacker, 'addr', 'add', '2001:db8:bad::5/128', 'dev', 'lo', 'nodad']);
    await sh(['-n', server, 'route', 'add', '203.0.113.0/24', 'via', '192.0.2.2']);
    await sh(['-n', server, '-6', 'route', 'add', '2001:db8:bad::/48', 'via', '2001:db8:1::2']);

    const exec: Lab['exec'] = async (ns, cmd, args, opts = {}) => {
      const p = run('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20 });
      if (opts.input !== undefined) p.child.stdin?.end(opts.input);
      const r = await p;
      return { stdout: r.stdout, stderr: r.stderr };
    };
    const status: Lab['status'] = async (ns, cmd, args, opts = {}) => {
      try {
        const r = await exec(ns, cmd, args, opts);
        return { code: 0, ...r };
      } catch (err) {
        const e = err as { code?: unknown; stdout?: string; stderr?: string };
        return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    };
    return {
      server,
      attacker: peers[0]!,
      client: peers[1]!,
      denied4: '203.0.113.5',
      denied6: '2001:db8:bad::5',
      exec,
      status,
      spawn: (ns, cmd, args, opts = {}) => spawn('ip', ['netns', 'exec', ns, cmd, ...args], opts),
      attackerAlias: async (n) => {
        const ip4 = `192.0.2.${10 + n}`;
        const ip6 = `2001:db8:1::${(0x10 + n).toString(16)}`;
        await sh(['-n', names.attacker, 'addr', 'add', `${ip4}/32`, 'dev', 'eth0']);
        await sh(['-n', names.attacker, 'addr', 'add', `${ip6}/128`, 'dev', 'eth0', 'nodad']);
        return { ip4, ip6 };
      },
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}
