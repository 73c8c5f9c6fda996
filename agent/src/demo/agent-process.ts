// Runs `vpsfw run` inside a namespace as a child process and reads its JSON event lines: used by
// the demo and the end-to-end tests alike.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const VPSFW_BIN = fileURLToPath(new URL('../../../bin/vpsfw.js', import.meta.url));
/** Node's flags and environment for the agent, as the installed units give them. */
export const { flags: AGENT_NODE_FLAGS, environment: AGENT_NODE_ENV } = JSON.parse(readFileSync(new URL('../../packaging/node-options.json', import.meta.url), 'utf8')) as { flags: string[]; environment: Record<string, string> };

export interface AgentEvent {
  event?: string;
  [k: string]: unknown;
}

export interface AgentProcess {
  child: ChildProcess;
  events: AgentEvent[];
  stderr: string[];
  controlPath: string;
  stateDir: string;
  policyPath: string;
  /** Waits for an event matching the predicate (already seen or still to come). */
  waitFor(pred: (e: AgentEvent) => boolean, timeoutMs?: number, what?: string): Promise<AgentEvent>;
  /** Runs a `vpsfw` client command against this agent (in the same namespace). */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  writePolicy(doc: unknown): void;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface AgentStart {
  ns: string;
  policy: unknown;
  /** Reuse a state directory (restart tests); a new temporary one otherwise. */
  stateDir?: string;
  extraArgs?: string[];
}

export async function startAgent(opts: AgentStart): Promise<AgentProcess> {
  const work = mkdtempSync(join(tmpdir(), 'vpsfw-agent-'));
  const stateDir = opts.stateDir ?? join(work, 'state');
  const controlPath = join(work, 'control.sock');
  const policyPath = join(work, 'policy.json');
  writeFileSync(policyPath, JSON.stringify(opts.policy));
  // Without NODE_OPTIONS, as the units run it: a test runner puts its loaders there (and adds them
  // back to whatever environment a child is given), and they would run inside the agent and weigh on it.
  const child = spawn('ip', ['netns', 'exec', opts.ns, 'env', '-u', 'NODE_OPTIONS', process.execPath, ...AGENT_NODE_FLAGS, VPSFW_BIN, 'run', '--policy', policyPath, '--control', controlPath, '--state-dir', stateDir, ...(opts.extraArgs ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...AGENT_NODE_ENV },
  });
  const events: AgentEvent[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as AgentEvent);
    } catch {
      events.push({ event: 'unparsed', line });
    }
    notify();
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderr.push(line);
    notify();
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      notify();
      resolve(code);
    }),
  );

  const waitFor: AgentProcess['waitFor'] = (pred, timeoutMs = 10_000, what = 'event') =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = events.find(pred);
        if (hit) return done(() => resolve(hit));
        if (exitCode !== undefined) done(() => reject(new Error(`agent exited (${exitCode}) before ${what}; stderr: ${stderr.slice(-5).join(' | ')}; last events: ${JSON.stringify(events.slice(-3))}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${stderr.slice(-5).join(" | ")}; last events: ${JSON.stringify(events.slice(-3))}`))), timeoutMs);
      const done = (f: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    });

  const agent: AgentProcess = {
    child,
    events,
    stderr,
    controlPath,
    stateDir,
    policyPath,
    waitFor,
    exited,
    writePolicy: (doc) => writeFileSync(policyPath, JSON.stringify(doc)),
    cli: (args) =>
      new Promise((resolve) => {
        const c = spawn('ip', ['netns', 'exec', opts.ns, process.execPath, VPSFW_BIN, ...args, '--control', controlPath], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let err = '';
        c.stdout.on('data', (d) => (stdout += d));
        c.stderr.on('data', (d) => (err += d));
        c.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr: err }));
      }),
    stop: async () => {
      if (exitCode === undefined) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(work, { recursive: true, force: true });
      return code;
    },
  };
  await waitFor((e) => e.event === 'start', 30_000, 'the start event');
  return agent;
}
