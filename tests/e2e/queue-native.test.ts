// The native NFQUEUE addon against the kernel, in a lab: a rule queues UDP to a few ports; a
// consumer in the server namespace (NativeQueue from the build) gives each port its verdict.
// Accept lets v4 and v6 through, drop drops, reject makes the kernel answer ICMP unreachable,
// close unbinds the queue and releases the event loop, and a full queue passes traffic when
// fail-open and drops it (counted) when fail-closed.
import t from 'tap';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { labFor, type Lab } from '../lib/netns.js';

const NUM = 3;
const PORT = { accept: 7000, drop: 7001, reject: 7002, stall: 7003 };
const DIST = fileURLToPath(new URL('../../agent/dist/queue/native.js', import.meta.url));

// The consumer. Ports map to verdicts; on the stall port the first packet blocks the handler for
// 3 s, so the kernel queue fills. SIGUSR2 closes the queue; the process must then exit by itself.
const CONSUMER = `
const { NativeQueue } = await import(process.argv[1]);
const opts = JSON.parse(process.argv[2]);
const q = new NativeQueue(opts);
const verdicts = { ${PORT.accept}: 'accept', ${PORT.drop}: 'drop', ${PORT.reject}: 'reject', ${PORT.stall}: 'drop' };
let stalled = false;
q.start((p) => {
  const v6 = p.payload[0] >> 4 === 6;
  const l4 = v6 ? 40 : (p.payload[0] & 15) * 4;
  const dport = p.payload.readUInt16BE(l4 + 2);
  console.log(JSON.stringify({ family: v6 ? 6 : 4, dport, direction: p.direction, established: p.established }));
  if (dport === ${PORT.stall} && !stalled) {
    stalled = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
  }
  return verdicts[dport] ?? 'accept';
});
process.on('SIGUSR2', () => {
  const stats = q.stats();
  q.close();
  console.log(JSON.stringify({ closed: true, stats }));
  setTimeout(() => {}, 1500);
});
console.error('ready');
`;

// Sends datagrams from a peer and reports what came back: "reply", "refused" (ICMP unreachable) or "timeout".
const PROBE = `
import socket, sys, time
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, port))
s.settimeout(1.5)
if count == 1:
    s.send(b"probe")
else:
    s.send(b"first")
    time.sleep(0.3)
    for _ in range(count):
        s.send(b"burst")
replies = 0
try:
    while True:
        s.recv(100)
        replies += 1
        if count == 1: break
except ConnectionRefusedError:
    print("refused"); sys.exit(0)
except socket.timeout:
    pass
print("reply" if count == 1 and replies else ("timeout" if count == 1 else replies))
`;

const ECHO = `
const dgram = require('node:dgram');
for (const port of process.argv.slice(1).map(Number)) {
  const s = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  s.bind(port, '::');
}
setTimeout(() => process.exit(0), 120000);
`;

interface Consumer {
  seen: Array<{ family?: number; dport?: number; direction?: string; established?: boolean; closed?: boolean; stats?: { received: number; kernelDrops: number } }>;
  closeQueue(): Promise<void>;
  exited: Promise<number | null>;
}

async function setUp(t: { teardown(fn: () => unknown): void }): Promise<Lab> {
  const lab = await labFor(t);
  for (const [cmd, reject] of [['iptables', 'icmp-port-unreachable'], ['ip6tables', 'icmp6-port-unreachable']] as const) {
    // NF_REPEAT runs the hook again: the reject rule must come first.
    await lab.exec(lab.server, cmd, ['-A', 'INPUT', '-m', 'mark', '--mark', '0x560000/0xff0000', '-j', 'REJECT', '--reject-with', reject]);
    await lab.exec(lab.server, cmd, ['-A', 'INPUT', '-p', 'udp', '--dport', `${PORT.accept}:${PORT.stall}`, '-j', 'NFQUEUE', '--queue-num', String(NUM)]);
  }
  const echo = lab.spawn(lab.server, process.execPath, ['-e', ECHO, ...Object.values(PORT).map(String)], { stdio: 'ignore' });
  t.teardown(() => void echo.kill());
  return lab;
}

async function startConsumer(t: { teardown(fn: () => unknown): void }, lab: Lab, opts: { maxLen: number; failOpen: boolean }): Promise<Consumer> {
  const child = lab.spawn(lab.server, process.execPath, ['--input-type=module', '-e', CONSUMER, DIST, JSON.stringify({ num: NUM, ...opts })], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const seen: Consumer['seen'] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let stderr = '';
  createInterface({ input: child.stdout! }).on('line', (l) => seen.push(JSON.parse(l)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (stderr.includes('ready')) resolve();
    });
    void exited.then((code) => reject(new Error(`consumer exited (${code}): ${stderr}`)));
  });
  return {
    seen,
    exited,
    closeQueue: async () => {
      child.kill('SIGUSR2');
      for (let i = 0; i < 100 && !seen.some((s) => s.closed); i++) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

const send = async (lab: Lab, host: string, port: number, count = 1) => (await lab.exec(lab.client.ns, '/usr/bin/python3', ['-c', PROBE, host, String(port), String(count)], { timeoutMs: 15_000 })).stdout.trim();

const queueListed = async (lab: Lab) => (await lab.exec(lab.server, 'cat', ['/proc/net/netfilter/nfnetlink_queue'])).stdout.split('\n').some((l) => l.trim().split(/\s+/)[0] === String(NUM));

t.test('verdicts over IPv4 and IPv6, then close', async (t) => {
  const lab = await setUp(t);
  const c = await startConsumer(t, lab, { maxLen: 1024, failOpen: false });
  const { server4, server6 } = lab.client;

  t.equal(await send(lab, server4, PORT.accept), 'reply', 'v4 accept: the service answers');
  t.equal(await send(lab, server6, PORT.accept), 'reply', 'v6 accept: the service answers');
  t.equal(await send(lab, server4, PORT.drop), 'timeout', 'v4 drop: nothing comes back');
  t.equal(await send(lab, server6, PORT.drop), 'timeout', 'v6 drop: nothing comes back');
  t.equal(await send(lab, server4, PORT.reject), 'refused', 'v4 reject: ICMP port unreachable');
  t.equal(await send(lab, server6, PORT.reject), 'refused', 'v6 reject: ICMPv6 port unreachable');

  t.match(c.seen.filter((s) => s.dport !== undefined), [
    { family: 4, dport: PORT.accept, direction: 'inbound', established: false },
    { family: 6, dport: PORT.accept, direction: 'inbound', established: false },
    { family: 4, dport: PORT.drop },
    { family: 6, dport: PORT.drop },
    { family: 4, dport: PORT.reject },
    { family: 6, dport: PORT.reject },
  ], 'each packet reached the handler once, decoded');

  t.ok(await queueListed(lab), 'the queue is bound while running');
  await c.closeQueue();
  t.match(c.seen.find((s) => s.closed), { stats: { received: 6 } }, 'stats counted the judged packets');
  t.notOk(await queueListed(lab), 'close unbinds the queue');
  const code = await Promise.race([c.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
  t.equal(code, 0, 'with the queue closed, nothing holds the event loop: the process exits');
});

t.test('a full queue: fail-open passes traffic, fail-closed drops and counts it', async (t) => {
  for (const failOpen of [true, false]) {
    await t.test(failOpen ? 'fail-open' : 'fail-closed', async (t) => {
      const lab = await setUp(t);
      const c = await startConsumer(t, lab, { maxLen: 16, failOpen });
      // One packet stalls the handler; 200 more arrive while 16 fit in the queue.
      const replies = Number(await send(lab, lab.client.server4, PORT.stall, 200));
      // The queued ones are dropped once the handler wakes, so any reply passed the full queue.
      if (failOpen) t.ok(replies > 0, `the kernel accepted the overflow (${replies} replies)`);
      else t.equal(replies, 0, 'no packet passed');
      await new Promise((r) => setTimeout(r, 3000));
      await c.closeQueue();
      const stats = c.seen.find((s) => s.closed)?.stats;
      t.ok(stats && stats.received >= 1 && stats.received <= 17, `only what fit in the queue reached the handler (${stats?.received})`);
      if (!failOpen) t.ok(stats && stats.kernelDrops > 0, `the kernel's drops are reported (${stats?.kernelDrops})`);
    });
  }
});
