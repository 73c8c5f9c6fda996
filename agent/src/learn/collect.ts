// Gathering what learning reads: live, for a while (conntrack's new-flow events in both families,
// the agent's log lines as they come, from its journal or a file), or afterwards from the agent's
// logs alone; what listens comes from `ss` either way. Every process started here is stopped here.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { FileFollower } from '../logsources/file-follower.js';
import { parseAgentEvent, parseConntrackEvent, parseSs, type Listener, type Observation } from './observations.js';

export type AgentLog = { journal: string } | { file: string };

/** Lines of a program's output until it ends or `stop` resolves; the program is then ended. */
function linesOf(cmd: string, args: string[], onLine: (l: string) => void, stop?: Promise<void>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    createInterface({ input: c.stdout }).on('line', onLine);
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stderr }));
    void stop?.then(() => c.kill('SIGTERM'));
  });
}

export async function listeners(): Promise<Listener[]> {
  let out = '';
  const r = await linesOf('ss', ['-H', '-l', '-t', '-u', '-n'], (l) => (out += l + '\n'));
  if (r.code !== 0) throw new Error(`ss failed (exit ${r.code}): ${r.stderr.trim()}`);
  return parseSs(out);
}

/** For `durationMs`: conntrack's NEW events (needs CAP_NET_ADMIN) and the agent's log lines. */
export async function collectLive(durationMs: number, agentLog: AgentLog | null): Promise<Observation[]> {
  const seen: Observation[] = [];
  const add = (o: Observation | null) => void (o && seen.push(o));
  let done!: () => void;
  const stop = new Promise<void>((r) => (done = r));
  const runs = ['ipv4', 'ipv6'].map((f) => linesOf('conntrack', ['-E', '-e', 'NEW', '-o', 'timestamp', '-f', f], (l) => add(parseConntrackEvent(l, Date.now())), stop));
  let follower: FileFollower | null = null;
  if (agentLog && 'journal' in agentLog) runs.push(linesOf('journalctl', ['--follow', '--output=cat', '--lines=0', '--no-pager', `--unit=${agentLog.journal}`], (l) => add(parseAgentEvent(l)), stop));
  if (agentLog && 'file' in agentLog) {
    follower = new FileFollower({ path: agentLog.file, positions: { load: () => null, save: () => undefined }, onLines: (ls) => ls.forEach((l) => add(parseAgentEvent(l))), onNote: () => undefined, pollMs: 250 });
    await follower.start();
  }
  const timer = setTimeout(done, durationMs);
  const ended = await Promise.all(runs);
  clearTimeout(timer);
  await follower?.wake();
  await follower?.stop();
  const failed = ended.find((r) => r.code !== 0 && r.code !== null && r.stderr.trim() !== '' && !/flow events have been shown/.test(r.stderr));
  if (failed && seen.length === 0) throw new Error(`cannot watch new connections: ${failed.stderr.trim()}`);
  return seen;
}

/** The agent's past log lines: a unit's journal (since `since`, journalctl's syntax) or a file. */
export async function collectFromLogs(from: AgentLog, since?: string): Promise<Observation[]> {
  const seen: Observation[] = [];
  const add = (l: string) => {
    const o = parseAgentEvent(l);
    if (o) seen.push(o);
  };
  if ('journal' in from) {
    const r = await linesOf('journalctl', ['--output=cat', '--no-pager', `--unit=${from.journal}`, ...(since ? [`--since=${since}`] : [])], add);
    if (r.code !== 0) throw new Error(`journalctl failed (exit ${r.code}): ${r.stderr.trim()}`);
  } else {
    for await (const l of createInterface({ input: createReadStream(from.file), crlfDelay: Infinity })) add(l);
  }
  return seen;
}
