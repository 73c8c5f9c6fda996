// The legitimate client of the under-attack rows: opens one TCP connection every 1/RATE s (one
// at a time; a slow one delays the next) for a bounded time and counts how many complete
// (connect, send, get the service's answer) within 3 s, which allows one SYN retransmission.
// Usage: node connect-loop.js HOST PORT SECONDS RATE  →  {"attempted", "completed", "failed", "msP50", "msMax"}
// (msP50, msMax: how long the completed ones took, connect to answer)
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const [host, port, seconds, rate] = process.argv.slice(2);
const end = Date.now() + Number(seconds) * 1000;
const gapMs = 1000 / Number(rate);
const out = { attempted: 0, completed: 0, failed: 0, msP50: null, msMax: null };
const took = [];

function once() {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect({ host, port: Number(port) });
    const done = (ok) => {
      s.destroy();
      if (ok) took.push(Date.now() - t0);
      ok ? out.completed++ : out.failed++;
      resolve();
    };
    s.setTimeout(3000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('hello'));
    s.on('data', () => done(true));
  });
}

for (let next = Date.now(); next < end && Date.now() < end; next += gapMs) {
  await sleep(Math.max(0, next - Date.now()));
  out.attempted++;
  await once();
}
took.sort((a, b) => a - b);
if (took.length) [out.msP50, out.msMax] = [took[took.length >> 1], took[took.length - 1]];
process.stdout.write(JSON.stringify(out) + '\n');
