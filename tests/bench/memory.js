// The agent's memory at the sizing point, without the kernel: the engine (realistic
// policy) sees a SYN from each of 100k sources and payload traffic on 100k flows of a watched
// port, and the ban store holds 100k bans (fake kernel set and state file). Prints the process's
// RSS before and after, and its peak (VmHWM), in MiB, with the engine's own counters.
// Usage: node --expose-gc tests/bench/memory.js [COUNT]
import { readFileSync } from 'node:fs';
import { BanStore } from '../../agent/dist/bans/store.js';
import { Engine } from '../../agent/dist/engine/engine.js';
import { decode } from '../../agent/dist/packet/decode.js';
import { parsePolicy } from '../../agent/dist/policy/load.js';
import { benchPolicy, WEB_PORT } from './policy.js';

const count = Number(process.argv[2] ?? 100_000);
const mib = (bytes) => Math.round(bytes / 104857.6) / 10;
const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
const settle = () => (globalThis.gc?.(), mib(process.memoryUsage().rss));

/** An IPv4 TCP packet from 10.x.y.z; checksums are left zero (the decoder does not check them). */
function tcp4(src, sport, dport, flags, payload = Buffer.alloc(0)) {
  const b = Buffer.alloc(40 + payload.length);
  b[0] = 0x45;
  b.writeUInt16BE(b.length, 2);
  b[8] = 64;
  b[9] = 6;
  b.writeUInt32BE(0x0a000000 + src, 12);
  b.writeUInt32BE(0xc0000201, 16);
  b.writeUInt16BE(sport, 20);
  b.writeUInt16BE(dport, 22);
  b.writeUInt32BE(1000, 24);
  b[32] = 0x50;
  b[33] = flags;
  b.writeUInt16BE(65535, 34);
  payload.copy(b, 40);
  return b;
}

const policy = parsePolicy({ ...benchPolicy, payloadRules: [...benchPolicy.payloadRules, { name: 'web-marker', protocol: 'tcp', ports: [WEB_PORT], pattern: { text: 'EVIL-MARKER' }, action: 'drop' }], bans: { maxEntries: count } }, 'bench').policy;
const before = settle();
let t = 1_000_000;
const engine = new Engine(policy, { now: () => t });
const judge = (bytes, established) => {
  const p = decode(bytes);
  if (typeof p === 'string') throw new Error(`bench packet did not decode: ${p}`);
  return engine.judge(p, { direction: 'inbound', established });
};
const SYN = 0x02;
const ACK_PSH = 0x18;
const body = Buffer.from('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');
for (let i = 0; i < count; i++) {
  t += 1; // 1000 new sources per second: under the SYN detector's total rate
  judge(tcp4(i + 1, 40000 + (i % 20000), WEB_PORT, SYN), false);
  judge(tcp4(i + 1, 40000 + (i % 20000), WEB_PORT, ACK_PSH, body), true);
}
const afterEngine = { rss: settle(), heap: mib(process.memoryUsage().heapUsed) };
const bans = new BanStore(
  { kernel: { add: async () => [], del: async () => {}, list: async () => [] }, file: { path: 'bench', load: async function* () {}, save: async () => {} }, now: () => t, onError: (err) => console.error(err) },
  { duration: policy.bans.duration, escalation: policy.bans.escalation, maxEntries: count, allowlist: policy.bans.allowlist },
);
for (let i = 0; i < count; i++) bans.ban({ target: `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, durationMs: 3_600_000, reason: 'bench', by: 'bench', origin: 'agent' });
const after = settle();
process.stdout.write(JSON.stringify({ count, rssBeforeMiB: before, rssAfterEngineMiB: afterEngine.rss, heapAfterEngineMiB: afterEngine.heap, rssAfterMiB: after, peakRssMiB: mib(hwm()), heapUsedMiB: mib(process.memoryUsage().heapUsed), arrayBuffersMiB: mib(process.memoryUsage().arrayBuffers), bans: bans.list().length, engine: engine.stats() }) + '\n');
