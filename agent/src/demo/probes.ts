// Small programs run inside the lab's namespaces: a TCP service that answers every chunk, and a
// TCP probe that connects (from a chosen source address), sends its chunks and reports what came back.
// Both are bounded in time and stop by themselves.
import type { Lab } from './lab.js';

const SERVICE = `
const net = require('node:net');
for (const port of process.argv.slice(1).map(Number)) {
  net.createServer((s) => { s.on('data', (d) => s.write('ok ' + d.length + '\\n')); s.on('error', () => {}); })
    .listen({ port, host: '::', ipv6Only: false });
}
setTimeout(() => process.exit(0), Number(process.env.VPSFW_SERVICE_TTL_MS || 600000));
`;

const PROBE = `
const net = require('node:net');
const [host, port, local, gap, ...chunks] = process.argv.slice(1);
const out = { connected: false, replies: 0, error: null };
const s = net.connect({ host, port: Number(port), localAddress: local || undefined });
const finish = () => { process.stdout.write(JSON.stringify(out)); process.exit(0); };
s.setTimeout(2000, () => { out.error = out.error || 'timeout'; s.destroy(); finish(); });
s.on('error', (e) => { out.error = e.code || e.message; finish(); });
s.on('data', (d) => { out.replies += String(d).split('\\n').filter(Boolean).length; if (out.replies >= chunks.length) { s.end(); finish(); } });
s.on('connect', async () => {
  out.connected = true;
  for (const c of chunks) { s.write(c); await new Promise((r) => setTimeout(r, Number(gap))); }
});
`;

/** An application that writes to each client: its chunks, each its own segment, 150 ms apart; it reports how each socket ended. */
export const CHATTY = `
const net = require('node:net');
const [port, ...chunks] = process.argv.slice(1);
net.createServer((s) => {
  s.setNoDelay(true);
  let i = 0;
  const next = () => { if (i < chunks.length && !s.destroyed) { s.write(chunks[i++]); setTimeout(next, 150); } };
  s.on('error', (e) => process.stdout.write('APP ' + (e.code || e.message) + '\\n'));
  s.on('close', () => process.stdout.write('APP closed\\n'));
  next();
}).listen({ port: Number(port), host: '::', ipv6Only: false }, () => process.stdout.write('APP listening\\n'));
setTimeout(() => process.exit(0), Number(process.env.VPSFW_SERVICE_TTL_MS || 600000));
`;

/** Connects, reads for a while, reports what arrived and how the socket ended (JSON: data, error, closed). */
export const READER = `
const net = require('node:net');
const [host, port, ms] = process.argv.slice(1);
const out = { data: '', error: null, closed: false };
const s = net.connect({ host, port: Number(port) });
s.on('data', (d) => (out.data += d));
s.on('error', (e) => (out.error = e.code || e.message));
s.on('close', () => (out.closed = true));
setTimeout(() => { process.stdout.write(JSON.stringify(out)); process.exit(0); }, Number(ms));
`;

export interface ChattyApp {
  /** What the application said of its sockets: "APP ECONNRESET", "APP closed". */
  readonly lines: string[];
  /** Resolves once it listens (rejects if it exits first). */
  readonly ready: Promise<void>;
  kill(): void;
}

/** Starts an application on `port` in a namespace that writes `chunks` to every client that connects. */
export function startChattyApp(lab: Lab, ns: string, port: number, chunks: string[]): ChattyApp {
  const child = lab.spawn(ns, process.execPath, ['-e', CHATTY, String(port), ...chunks], { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      for (const l of String(d).split('\n').filter(Boolean)) {
        if (l === 'APP listening') resolve();
        else lines.push(l);
      }
    });
    child.once('exit', (code) => reject(new Error(`the application on port ${port} exited (${code}) before it listened`)));
  });
  return { lines, ready, kill: () => child.kill() };
}

export interface ReadResult {
  data: string;
  error: string | null;
  closed: boolean;
}

/** Connects from `ns` and reads what the other end sends for `ms`. */
export async function readFrom(lab: Lab, ns: string, host: string, port: number, ms: number): Promise<ReadResult> {
  const r = await lab.exec(ns, process.execPath, ['-e', READER, host, String(port), String(ms)], { timeoutMs: ms + 10_000 });
  return JSON.parse(r.stdout) as ReadResult;
}

export interface ProbeResult {
  connected: boolean;
  replies: number;
  error: string | null;
}

/** Starts the answering service on these ports in a namespace; kill the returned process to stop it. */
export function startService(lab: Lab, ns: string, ports: number[]) {
  return lab.spawn(ns, process.execPath, ['-e', SERVICE, ...ports.map(String)], { stdio: 'ignore' });
}

/** Connects from `ns` (optionally from `local`), sends each chunk `gapMs` apart (separate TCP segments). */
export async function probe(lab: Lab, ns: string, host: string, port: number, opts: { local?: string; chunks?: string[]; gapMs?: number } = {}): Promise<ProbeResult> {
  const chunks = opts.chunks ?? ['hello'];
  const r = await lab.exec(ns, process.execPath, ['-e', PROBE, host, String(port), opts.local ?? '', String(opts.gapMs ?? 100), ...chunks], { timeoutMs: 10_000 });
  return JSON.parse(r.stdout) as ProbeResult;
}

/** Sends `count` pings (bounded by a deadline) and returns how many were answered. */
export async function pingCount(lab: Lab, ns: string, host: string, opts: { count: number; size?: number; local?: string; flood?: boolean; deadlineS?: number }): Promise<number> {
  const args = ['-n', '-q', '-c', String(opts.count), '-w', String(opts.deadlineS ?? 5), '-W', '1'];
  if (opts.size !== undefined) args.push('-s', String(opts.size));
  if (opts.local) args.push('-I', opts.local);
  if (opts.flood) args.push('-f');
  const r = await lab.status(ns, 'ping', [...args, host], { timeoutMs: (opts.deadlineS ?? 5) * 1000 + 5000 });
  const m = /(\d+) received/.exec(r.stdout);
  return m ? Number(m[1]) : 0;
}
