// The agent's per-packet cost without the kernel: batches as the addon hands them over (one Buffer,
// the metadata array, the verdict array), judged by the daemon's own packet handler with the
// realistic policy. Prints nanoseconds per packet for each traffic mix (best of the rounds: the
// least disturbed by the rest of the machine), and how much the heap grew per packet.
// Usage: node tests/bench/hot-path.js [--seconds S] [--rounds N] [--only NAME]
import { parseArgs } from 'node:util';
import { BanStore } from '../../agent/dist/bans/store.js';
import { DropSources } from '../../agent/dist/daemon/drop-sources.js';
import { makePacketHandler } from '../../agent/dist/daemon/packet-handler.js';
import { Engine } from '../../agent/dist/engine/engine.js';
import { ESTABLISHED_MARK } from '../../agent/dist/kernel/names.js';
import { LogLimiter } from '../../agent/dist/log/limiter.js';
import { parsePolicy } from '../../agent/dist/policy/load.js';
import { FLAG_INBOUND, META, META_WORDS } from '../../agent/dist/queue/native-binding.js';
import { judgeBatch } from '../../agent/dist/queue/native.js';
import { benchPolicy, WEB_PORT } from './policy.js';
import { FLOOD_PORT } from './measure.js';

const { values: opt } = parseArgs({ options: { seconds: { type: 'string', default: '1' }, rounds: { type: 'string', default: '5' }, only: { type: 'string' } } });
const BATCH = 64;

function ip4(src, protocol, l4) {
  const b = Buffer.alloc(20 + l4.length);
  b[0] = 0x45;
  b.writeUInt16BE(b.length, 2);
  b[8] = 64;
  b[9] = protocol;
  b.writeUInt32BE(src, 12);
  b.writeUInt32BE(0xc0000201, 16); // 192.0.2.1
  l4.copy(b, 20);
  return b;
}
function udp4(src, sport, dport, payload) {
  const l4 = Buffer.alloc(8 + payload.length);
  l4.writeUInt16BE(sport, 0);
  l4.writeUInt16BE(dport, 2);
  l4.writeUInt16BE(l4.length, 4);
  payload.copy(l4, 8);
  return ip4(src, 17, l4);
}
function tcp4(src, sport, dport, flags, seq, payload = Buffer.alloc(0)) {
  const l4 = Buffer.alloc(20 + payload.length);
  l4.writeUInt16BE(sport, 0);
  l4.writeUInt16BE(dport, 2);
  l4.writeUInt32BE(seq >>> 0, 4);
  l4[12] = 0x50;
  l4[13] = flags;
  payload.copy(l4, 20);
  return ip4(src, 6, l4);
}

/** A batch as the addon builds it; `marks[i]` is each packet's netfilter mark. */
function batch(packets, marks = []) {
  const data = Buffer.concat(packets);
  const meta = new Uint32Array(BATCH * META_WORDS);
  let off = 0;
  packets.forEach((p, i) => {
    const m = i * META_WORDS;
    meta[m + META.id] = i + 1;
    meta[m + META.mark] = marks[i] ?? 0;
    meta[m + META.flags] = FLAG_INBOUND;
    meta[m + META.offset] = off;
    meta[m + META.length] = p.length;
    off += p.length;
  });
  return { data, meta, count: packets.length };
}

const flood = Buffer.from('0123456789abcdefgh'); // the benchmark sender's 18 bytes
const http = Buffer.from('GET /index.html HTTP/1.1\r\nHost: bench\r\nAccept: */*\r\n\r\n');
const CLIENT = 0xc0000202;
const mixes = {
  // The UDP flood row: one flow, every packet queued, one payload rule watching its port.
  'udp-flood': () => batch(Array.from({ length: BATCH }, () => udp4(CLIENT, 40000, FLOOD_PORT, flood))),
  // New connections from many sources (each a new SYN; per-source state for each).
  'syn-many': (round) => batch(Array.from({ length: BATCH }, (_, i) => tcp4(0x0a000000 + ((round * BATCH + i) % 1_000_000), 40000 + i, WEB_PORT, 0x02, 1000))),
  // Established segments on an inspected TCP port, in order, one flow per packet of the batch.
  'tcp-inspected': (round) =>
    batch(
      Array.from({ length: BATCH }, (_, i) => tcp4(CLIENT + i, 50000, WEB_PORT, 0x18, 1001 + round * http.length, http)),
      Array(BATCH).fill(ESTABLISHED_MARK),
    ),
};

const policy = parsePolicy(
  { ...benchPolicy, payloadRules: [...benchPolicy.payloadRules, { name: 'web-marker', protocol: 'tcp', ports: [WEB_PORT], pattern: { text: 'EVIL-MARKER' }, action: 'drop' }], detectors: { synFlood: { total: { rate: 1e9, burst: 1e9 } } } },
  'bench',
).policy;

function run(name, make, seconds) {
  let t = 1_000_000;
  const engine = new Engine(policy, { now: () => t });
  const bans = new BanStore(
    { kernel: { add: async () => [], del: async () => {}, list: async () => [] }, file: { path: 'bench', load: async function* () {}, save: async () => {} }, now: () => t, onError: () => {} },
    { duration: policy.bans.duration, escalation: policy.bans.escalation, maxEntries: policy.bans.maxEntries, allowlist: policy.bans.allowlist },
  );
  const quiet = { info() {}, warn() {}, error() {} };
  const handler = makePacketHandler({ engine: () => engine, bans, log: quiet, limiter: new LogLimiter(0), now: () => t, logPackets: () => false, onBan: () => {}, dropSources: new DropSources() });
  const verdicts = new Uint8Array(BATCH);
  // A ring of prepared batches: varied input without building packets inside the timed loop.
  const ring = Array.from({ length: 64 }, (_, r) => make(r));
  const results = [];
  for (let round = 0; round < Number(opt.rounds); round++) {
    let packets = 0;
    const heap0 = process.memoryUsage().heapUsed;
    const start = process.hrtime.bigint();
    const end = start + BigInt(seconds * 1e9);
    let i = 0;
    while (process.hrtime.bigint() < end) {
      for (let k = 0; k < 100; k++) {
        const b = ring[i++ & 63];
        t += 1; // a millisecond per batch: buckets refill, flows stay alive
        packets += judgeBatch(b.data, b.count, b.meta, verdicts, handler);
      }
    }
    const ns = Number(process.hrtime.bigint() - start) / packets;
    results.push({ ns, heapBytesPerPacket: Math.max(0, process.memoryUsage().heapUsed - heap0) / packets });
  }
  const best = results.reduce((a, b) => (b.ns < a.ns ? b : a));
  return { name, nsPerPacket: Math.round(best.ns), nsPerRound: results.map((r) => Math.round(r.ns)), verdicts: engine.stats().decidedBy };
}

const out = [];
for (const [name, make] of Object.entries(mixes)) if (!opt.only || opt.only === name) out.push(run(name, make, Number(opt.seconds)));
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
