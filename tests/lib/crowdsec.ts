// A throwaway CrowdSec Local API for the tests and the benchmark: Debian's `crowdsec` binary with
// its own config, data directory and sqlite database in a temporary directory, run LAPI-only
// (-no-cs -no-capi: no log acquisition, no Central API) in a namespace of its own, listening on a
// lab address (198.18.0.1, RFC 2544's benchmarking network) that the server namespaces it is
// connected to reach over their own veth links. cscli runs against the same config, in that
// namespace. Teardown stops the LAPI and removes the namespace, the links and the directory.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startAgent, type AgentProcess } from '../../agent/src/demo/agent-process.js';
import { startService } from '../../agent/src/demo/probes.js';
import type { PolicyInput } from '../../agent/src/policy/schema.js';
import { SERVICE_PORTS } from './agent-lab.js';
import { labFor, type Lab } from './netns.js';

const run = promisify(execFile);

export const LAPI_ADDRESS = '198.18.0.1';
const PORT = 8080;

export interface Lapi {
  ns: string;
  url: string;
  dir: string;
  /** Runs cscli against this LAPI's config; JSON output parsed when asked. */
  cscli(args: string[]): Promise<string>;
  /** Registers a bouncer; returns its key. */
  addBouncer(name: string): Promise<string>;
  /** Registers a machine with a password. */
  addMachine(login: string): Promise<{ login: string; password: string }>;
  /** Writes a secret into a file of mode 0600 in the LAPI's directory; returns its path. */
  secretFile(name: string, value: string): string;
  /** A veth link from this namespace to `ns`, and a route there to the LAPI's address. */
  connect(ns: string): Promise<void>;
  /** Takes the link to `ns` down (up again with `reconnect`): the LAPI unreachable from there only. */
  cut(ns: string): Promise<void>;
  reconnect(ns: string): Promise<void>;
  /** Stops the LAPI process (SIGTERM, waits); `start` runs it again on the same database. */
  stop(): Promise<void>;
  start(): Promise<void>;
  log(): string;
  destroy(): Promise<void>;
}

let counter = 0;
const live = new Set<{ ns: string; child: () => ChildProcess | null }>();
process.once('exit', () => {
  for (const l of live) {
    l.child()?.kill('SIGKILL');
    try {
      execFileSync('ip', ['netns', 'del', l.ns], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  }
});

function config(dir: string): string {
  return `common:
  daemonize: false
  log_media: stdout
  log_level: info
config_paths:
  config_dir: ${dir}/
  data_dir: ${dir}/data/
  simulation_path: ${dir}/simulation.yaml
  hub_dir: ${dir}/hub/
  index_path: ${dir}/hub/.index.json
  notification_dir: ${dir}/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: ${dir}/acquis.yaml
cscli:
  output: json
db_config:
  type: sqlite
  db_path: ${dir}/data/crowdsec.db
  use_wal: true
  flush:
    max_items: 500000
    max_age: 7d
api:
  client:
    insecure_skip_verify: false
    credentials_path: ${dir}/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: ${LAPI_ADDRESS}:${PORT}
    profiles_path: ${dir}/profiles.yaml
    trusted_ips:
      - 127.0.0.1
prometheus:
  enabled: false
`;
}

// The LAPI's default profile: alerts that carry no decision of their own get a 4h ban.
const PROFILES = `name: default_ip_remediation
filters:
 - Alert.Remediation == true && Alert.GetScope() == "Ip"
decisions:
 - type: ban
   duration: 4h
on_success: break
`;

export async function startLapi(): Promise<Lapi> {
  const id = `vt${process.pid}xcs${counter++}`;
  const ns = `${id}l`;
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-lapi-'));
  const cfg = join(dir, 'config.yaml');
  let child: ChildProcess | null = null;
  let out = '';
  const links = new Map<string, { lapiIf: string; n: number }>();
  const entry = { ns, child: () => child };
  const exec = (cmd: string, args: string[], timeout = 60_000) => run('ip', ['netns', 'exec', ns, cmd, ...args], { timeout, maxBuffer: 256 << 20 });
  const sh = (args: string[]) => run('ip', args);

  for (const sub of ['data', 'hub', 'notifications']) mkdirSync(join(dir, sub));
  writeFileSync(cfg, config(dir));
  writeFileSync(join(dir, 'profiles.yaml'), PROFILES);
  writeFileSync(join(dir, 'simulation.yaml'), 'simulation: off\n');
  writeFileSync(join(dir, 'acquis.yaml'), '');

  const cscli = async (args: string[]) => (await exec('cscli', ['-c', cfg, ...args])).stdout;

  const start = async () => {
    out = '';
    const c = spawn('ip', ['netns', 'exec', ns, 'crowdsec', '-c', cfg, '-no-cs', '-no-capi'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 60_000;
    while (!out.includes('CrowdSec Local API listening')) {
      if (c.exitCode !== null) throw new Error(`the LAPI exited (${c.exitCode}): ${out.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`the LAPI did not listen within 60 s: ${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };

  const destroy = async () => {
    await stop().catch(() => undefined);
    await sh(['netns', 'del', ns]).catch(() => undefined);
    live.delete(entry);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await sh(['netns', 'add', ns]);
    live.add(entry);
    await sh(['-n', ns, 'link', 'set', 'lo', 'up']);
    await sh(['-n', ns, 'addr', 'add', `${LAPI_ADDRESS}/32`, 'dev', 'lo']);
    // cscli's own machine, for `decisions add/delete` and `alerts list` (they go through the API).
    await cscli(['machines', 'add', 'cscli', '--auto', '--url', `http://${LAPI_ADDRESS}:${PORT}/`, '-f', join(dir, 'local_api_credentials.yaml')]);
    await start();
  } catch (err) {
    await destroy();
    throw err;
  }

  return {
    ns,
    url: `http://${LAPI_ADDRESS}:${PORT}/`,
    dir,
    cscli,
    addBouncer: async (name) => JSON.parse(await cscli(['bouncers', 'add', name])) as string,
    addMachine: async (login) => {
      const password = `pw-${login}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
      await cscli(['machines', 'add', login, '--password', password]);
      return { login, password };
    },
    secretFile: (name, value) => {
      const path = join(dir, name);
      writeFileSync(path, `${value}\n`);
      chmodSync(path, 0o600);
      return path;
    },
    connect: async (peer) => {
      const n = links.size + 1;
      const lapiIf = `cs${n}`;
      await sh(['link', 'add', `${id}${lapiIf}`, 'netns', ns, 'type', 'veth', 'peer', 'name', `${id}p${n}`, 'netns', peer]);
      await sh(['-n', ns, 'link', 'set', `${id}${lapiIf}`, 'name', lapiIf]);
      await sh(['-n', peer, 'link', 'set', `${id}p${n}`, 'name', 'lapi0']);
      await sh(['-n', ns, 'addr', 'add', `198.19.${n}.1/24`, 'dev', lapiIf]);
      await sh(['-n', peer, 'addr', 'add', `198.19.${n}.2/24`, 'dev', 'lapi0']);
      await sh(['-n', ns, 'link', 'set', lapiIf, 'up']);
      await sh(['-n', peer, 'link', 'set', 'lapi0', 'up']);
      await sh(['-n', peer, 'route', 'add', `${LAPI_ADDRESS}/32`, 'via', `198.19.${n}.1`]);
      links.set(peer, { lapiIf, n });
    },
    cut: async (peer) => void (await sh(['-n', ns, 'link', 'set', links.get(peer)!.lapiIf, 'down'])),
    reconnect: async (peer) => void (await sh(['-n', ns, 'link', 'set', links.get(peer)!.lapiIf, 'up'])),
    stop,
    start,
    log: () => out,
    destroy,
  };
}

/** A LAPI tied to a tap test: destroyed in its teardown, pass or fail. */
export async function lapiFor(t: { teardown(fn: () => unknown): void }): Promise<Lapi> {
  const lapi = await startLapi();
  t.teardown(() => lapi.destroy());
  return lapi;
}

/**
 * An end-to-end fixture: a lab joined to the LAPI, the answering service, and the agent running the
 * policy made for that lab (in the server namespace); all stopped and removed in the teardown.
 */
export async function crowdsecAgentLab(t: { teardown(fn: () => unknown): void }, lapi: Lapi, policy: (lab: Lab) => PolicyInput): Promise<{ lab: Lab; agent: AgentProcess }> {
  const lab = await labFor(t);
  await lapi.connect(lab.server);
  const service = startService(lab, lab.server, SERVICE_PORTS);
  t.teardown(() => service.kill());
  const agent = await startAgent({ ns: lab.server, policy: policy(lab) });
  t.teardown(() => agent.stop());
  return { lab, agent };
}
