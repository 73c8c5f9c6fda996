// The raw sender and the resets against the kernel, in a lab: a TCP server in the server namespace
// and a client in the client namespace, connected over IPv4 and IPv6. A consumer in the server
// namespace (NativeQueue, NativeRawSender, decode and resetsFor from the build) drops the client's
// first data segment and sends resetsFor(segment): the client and the server application both see
// ECONNRESET, the data never arrives, and rules matching OWN_MARK count our two resets going out
// and the one to the local application coming back in on loopback. The sender's own refusals too.
import t from 'tap';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MARK_MASK, OWN_MARK, PASS_MARK } from '../../agent/src/kernel/names.js';
import { decode } from '../../agent/src/packet/decode.js';
import { resetsFor } from '../../agent/src/packet/reset.js';
import { TCP_ACK, type Packet } from '../../agent/src/packet/types.js';
import { NativeRawSender } from '../../agent/src/queue/raw-sender.js';
import { labFor, type Lab } from '../lib/netns.js';
import { tcp4 } from '../lib/packets.js';

const NUM = 4;
const PORT = 7200;
const dist = (path: string) => fileURLToPath(new URL(`../../agent/dist/${path}`, import.meta.url));
const hex = (n: number) => `0x${n.toString(16)}`;
const mark = (m: number) => ['-m', 'mark', '--mark', `${hex(m)}/${hex(MARK_MASK)}`];

// Accepts the handshake, kills the connection at its first data segment.
const CONSUMER = `
const [queuePath, senderPath, decodePath, resetPath, num] = process.argv.slice(1);
const { NativeQueue } = await import(queuePath);
const { NativeRawSender } = await import(senderPath);
const { decode } = await import(decodePath);
const { resetsFor } = await import(resetPath);
const sender = new NativeRawSender();
const q = new NativeQueue({ num: Number(num), maxLen: 64, failOpen: false });
q.start((qp) => {
  const p = decode(qp.payload);
  if (typeof p === 'string' || p.payloadLength === 0) return 'accept';
  const r = resetsFor(p);
  sender.send(r.toSender);
  sender.send(r.toReceiver);
  console.log(JSON.stringify({ killed: p.family }));
  return 'drop';
});
console.error('ready');
setTimeout(() => process.exit(0), 60000);
`;

// The server application: reports what each connection read and how it ended.
const SERVER = `
const net = require('node:net');
net.createServer((s) => {
  s.on('data', (d) => console.log(JSON.stringify({ data: d.toString() })));
  s.on('error', (e) => console.log(JSON.stringify({ error: e.code })));
}).listen(Number(process.argv[1]), '::', () => console.error('ready'));
setTimeout(() => process.exit(0), 60000);
`;

// The client: connects, writes, and reports how the connection ended (or that nothing happened).
const CLIENT = `
const net = require('node:net');
const s = net.connect({ host: process.argv[1], port: Number(process.argv[2]) }, () => s.write('kill-me'));
const done = (what) => { console.log(what); process.exit(0); };
s.on('error', (e) => done(e.code));
s.on('data', () => done('data'));
s.on('close', () => done('closed'));
setTimeout(() => done('timeout'), 10000);
`;

/** A process in a namespace whose stdout lines are JSON; resolves once it prints "ready" on stderr. */
async function spawnReady(t: { teardown(fn: () => unknown): void }, lab: Lab, ns: string, args: string[]): Promise<Array<Record<string, unknown>>> {
  const child = lab.spawn(ns, process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (stderr.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}): ${stderr}`)));
  });
  return lines;
}

const decoded = (b: Buffer) => decode(b) as Packet;

async function setUp(t: { teardown(fn: () => unknown): void }): Promise<Lab> {
  const lab = await labFor(t);
  for (const cmd of ['iptables', 'ip6tables']) {
    const ipt = (...args: string[]) => lab.exec(lab.server, cmd, ['-w', '-t', 'mangle', ...args]);
    // Our resets pass our own rules by their mark; accepted packets go on by theirs.
    await ipt('-A', 'INPUT', ...mark(OWN_MARK), '-m', 'comment', '--comment', 'own-in', '-j', 'RETURN');
    await ipt('-A', 'INPUT', ...mark(PASS_MARK), '-j', 'RETURN');
    // Each end's reset can only be ours: a reset at the wrong sequence number draws a challenge
    // ACK (RFC 5961), which the other end's kernel would answer with an exact reset of its own.
    await ipt('-A', 'INPUT', '-p', 'tcp', '--tcp-flags', 'RST', 'RST', '-j', 'DROP');
    await ipt('-A', 'INPUT', '-p', 'tcp', '--dport', String(PORT), '-j', 'NFQUEUE', '--queue-num', String(NUM));
    await ipt('-A', 'OUTPUT', '-p', 'tcp', '--tcp-flags', 'RST', 'RST', ...mark(OWN_MARK), '-m', 'comment', '--comment', 'own-out');
    await ipt('-A', 'OUTPUT', '-p', 'tcp', '--tcp-flags', 'RST', 'RST', '-m', 'mark', '!', '--mark', `${hex(OWN_MARK)}/${hex(MARK_MASK)}`, '-j', 'DROP');
  }
  return lab;
}

async function counted(lab: Lab, family: 4 | 6, comment: string): Promise<number> {
  const { stdout } = await lab.exec(lab.server, family === 4 ? 'iptables-save' : 'ip6tables-save', ['-c', '-t', 'mangle']);
  return Number(/^\[(\d+):/.exec(stdout.split('\n').find((l) => l.includes(`--comment ${comment}`)) ?? '')?.[1]);
}

t.test('resets from the raw sender kill a connection at both ends', async (t) => {
  const lab = await setUp(t);
  const killed = await spawnReady(t, lab, lab.server, ['--input-type=module', '-e', CONSUMER, dist('queue/native.js'), dist('queue/raw-sender.js'), dist('packet/decode.js'), dist('packet/reset.js'), String(NUM)]);
  const server = await spawnReady(t, lab, lab.server, ['-e', SERVER, String(PORT)]);

  for (const [family, host] of [[4, lab.client.server4], [6, lab.client.server6]] as const) {
    const before = server.length;
    const client = (await lab.exec(lab.client.ns, process.execPath, ['-e', CLIENT, host, String(PORT)], { timeoutMs: 20_000 })).stdout.trim();
    t.equal(client, 'ECONNRESET', `IPv${family}: the client's connection is reset`);
    for (let i = 0; i < 100 && server.length === before; i++) await new Promise((r) => setTimeout(r, 50));
    t.same(server.slice(before), [{ error: 'ECONNRESET' }], `IPv${family}: the server application's connection is reset, and it read nothing`);
    t.equal(await counted(lab, family, 'own-out'), 2, `IPv${family}: both resets went out with OWN_MARK`);
    t.equal(await counted(lab, family, 'own-in'), 1, `IPv${family}: the one to the local application came back in with it`);
  }
  t.same(killed, [{ killed: 4 }, { killed: 6 }], 'one data segment per connection was killed');
});

t.test('the raw sender refuses what is not an IP packet, and sends nothing once closed', async (t) => {
  // Nothing here reaches a socket: each refusal comes before the send.
  const s = new NativeRawSender();
  t.throws(() => s.send(Buffer.alloc(10)), { code: 'VPSFW_ERR_QUEUE', message: /not an IPv4 or IPv6 packet \(10 bytes, version 0\)/ });
  t.throws(() => s.send(Buffer.alloc(30, 0x60)), { code: 'VPSFW_ERR_QUEUE', message: /not an IPv4 or IPv6 packet \(30 bytes, version 6\)/ }, 'shorter than an IPv6 header');
  s.close();
  t.throws(() => s.send(Buffer.from(resetsFor(decoded(tcp4({ srcPort: 1, dstPort: 2, flags: TCP_ACK })))!.toSender)), { code: 'VPSFW_ERR_QUEUE', message: /closed/ });
});
