import { UsageError } from '../errors.js';
import { controlOption, parse, type Io } from './args.js';
import { askStatus, CONTROL_HELP } from './client-command.js';
import { SAMPLES, topLine, topScreen, type Sample } from './top-view.js';

const cmd = {
  usage: `usage: vpsfw top [--count N] [--control PATH]

A live view of the running agent, read once a second: verdicts, bans and queue rates with their
last minute as sparklines (banned/s: packets of banned sources the kernel dropped), the sources
refused most, the bans made last. q (or Ctrl-C) quits.
When the output is not a terminal, one plain line per second instead, and a line per new ban.
  --count N        stop after N readings
${CONTROL_HELP}`,
  options: { ...controlOption, count: { type: 'string' } },
} as const;

const INTERVAL_MS = 1000;

export default async function top(argv: string[], io: Io): Promise<number> {
  const { values } = parse(cmd, argv);
  if (values.help) return io.out(cmd.usage), 0;
  const count = values.count === undefined ? Infinity : Number(values.count);
  if (!(Number.isSafeInteger(count) && count > 0) && count !== Infinity) throw new UsageError(`--count: expected a positive whole number (got "${values.count}")`);
  const read = async (signal?: AbortSignal) => ({ at: Date.now(), s: await askStatus(values, signal) });
  return process.stdout.isTTY ? live(read, count) : plain(read, count, io);
}

/** The terminal view: the alternate screen, redrawn in place, raw keys for q. */
async function live(read: (signal: AbortSignal) => Promise<Sample>, count: number): Promise<number> {
  const out = process.stdout;
  const samples: Sample[] = [];
  let problem = '';
  let quit: () => void = () => undefined;
  const quitting = new Promise<void>((resolve) => (quit = resolve));
  // q quits at once, even while a reading is on its way (a loaded agent can take seconds).
  const abandon = new AbortController();
  void quitting.then(() => abandon.abort());
  const onKey = (key: Buffer) => {
    // q, Q, Ctrl-C, Ctrl-D
    if ([0x71, 0x51, 0x03, 0x04].includes(key[0]!)) quit();
  };
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.on('data', onKey).resume();
  out.write('\x1b[?1049h\x1b[?25l');
  const draw = () => {
    const lines = topScreen(samples, out.columns || 80, Date.now());
    if (problem) lines.push('', problem.slice(0, out.columns || 80));
    out.write('\x1b[H' + lines.map((l) => l + '\x1b[K').join('\n') + '\x1b[J');
  };
  try {
    for (let n = 0; n < count; n++) {
      try {
        samples.push(await read(abandon.signal));
        if (samples.length > SAMPLES + 1) samples.shift();
        problem = '';
      } catch (err) {
        if (abandon.signal.aborted) break;
        problem = `cannot read the agent: ${(err as Error).message}`;
      }
      draw();
      const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), INTERVAL_MS));
      if (await Promise.race([timer, quitting.then(() => true)])) break;
    }
  } finally {
    out.write('\x1b[?25h\x1b[?1049l');
    process.stdin.off('data', onKey).pause();
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
  }
  return 0;
}

/** Not a terminal: a line per reading, a line per ban first seen. */
async function plain(read: () => Promise<Sample>, count: number, io: Io): Promise<number> {
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (let n = 0; n < count; n++) {
    if (n > 0) await new Promise((r) => setTimeout(r, INTERVAL_MS));
    samples.push(await read());
    if (samples.length > 2) samples.shift();
    io.out(topLine(samples));
    for (const b of [...samples.at(-1)!.s.bans.recent].reverse()) {
      const key = `${b.address} ${b.since}`;
      if (seen.has(key)) continue;
      seen.add(key);
      io.out(`ban ${b.address} by ${b.by} until ${new Date(b.until).toISOString()}: ${b.reason}`);
    }
  }
  return 0;
}
