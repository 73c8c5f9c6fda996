// The native NFQUEUE addon against the kernel, in a lab laid out as the agent's rules are: a
// mangle chain of ours, jumped to first, lets re-injected packets go on by their mark and queues
// UDP to a few ports; rules after our jump still see what we accept, and filter rejects what we
// mark so. A consumer in the server namespace (NativeQueue from the build) gives each port its
// verdict. Accept goes on to the rules after ours (a counting rule sees it, a DROP rule after ours
// still drops it), done sets a connmark bit that stops queueing the flow, reject makes the kernel
// answer ICMP unreachable, drop drops, the interface index is the veth's, outbound too; close
// unbinds the queue and releases the event loop, and a full queue passes traffic when fail-open
// and drops it when fail-closed (the kernel counts the drops, never what fail-open let by).
// IPv4 and IPv6 throughout.
import t from 'tap';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CONNMARK_DONE_IN, DONE_MARK, MARK_MASK, PASS_MARK, REJECT_MARK } from '../../agent/src/kernel/names.js';
import { labFor, type Lab } from '../lib/netns.js';

const NUM = 3;
/** `blocked`: the consumer accepts, a rule after our chain drops. */
const PORT = { accept: 7000, drop: 7001, reject: 7002, stall: 7003, done: 7004, blocked: 7005 };
const DIST = fileURLToPath(new URL('../../agent/dist/queue/native.js', import.meta.url));
const hex = (n: number) => `0x${n.toString(16)}`;
const mark = (m: number) => ['-m', 'mark', '--mark', `${hex(m)}/${hex(MARK_MASK)}`];

// The consumer. Ports map to verdicts; on the stall port the first packet of each family blocks
// the handler for 3 s, so the kernel queue fills. SIGUSR2 closes the queue; the process must then exit by itself.
const CONSUMER = `
const { NativeQueue } = await import(process.argv[1]);
const opts = JSON.parse(process.argv[2]);
const q = new NativeQueue(opts);
const verdicts = { ${PORT.accept}: 'accept', ${PORT.drop}: 'drop', ${PORT.reject}: 'reject', ${PORT.stall}: 'drop', ${PORT.done}: 'done', ${PORT.blocked}: 'accept' };
const stalled = new Set();
q.start((p) => {
  const v6 = p.payload[0] >> 4 === 6;
  const l4 = v6 ? 40 : (p.payload[0] & 15) * 4;
  const sport = p.payload.readUInt16BE(l4);
  const dport = p.payload.readUInt16BE(l4 + 2);
  console.log(JSON.stringify({ family: v6 ? 6 : 4, sport, dport, direction: p.direction, established: p.established, ifindex: p.ifindex }));
  if (dport === ${PORT.stall} && !stalled.has(v6)) {
    stalled.add(v6);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);
  }
  return p.direction === 'outbound' ? 'accept' : verdicts[dport] ?? 'accept';
});
process.on('SIGUSR2', () => {
  const stats = q.stats();
  q.close();
  console.log(JSON.stringify({ closed: true, stats }));
  setTimeout(() => {}, 1500);
});
console.error('ready');
`;

// Sends datagrams from a peer and reports what came back: "reply", "refused" (ICMP unreachable)
// or "timeout"; with count 2 two datagrams of one flow, one after the other's reply ("2" if both
// came back); with a larger count a burst after a first datagram, and the number of replies.
const PROBE = `
import socket, sys, time
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, port))
s.settimeout(1.5)
try:
    if count <= 2:
        replies = 0
        for _ in range(count):
            s.send(b"probe")
            s.recv(100)
            replies += 1
        print("reply" if count == 1 else replies); sys.exit(0)
    s.send(b"first")
    time.sleep(0.3)
    for _ in range(count):
        s.send(b"burst")
    replies = 0
    while True:
        s.recv(100)
        replies += 1
except ConnectionRefusedError:
    print("refused"); sys.exit(0)
except socket.timeout:
    pass
print("timeout" if count <= 2 else replies)
`;

// One batch of mixed verdicts: a first datagram stalls the handler, the rest queue up behind it
// and reach it together. Sends to the ports in the given order (one socket per port) and prints,
// per port, the replies that came back and whether the kernel answered unreachable.
const MIXED = `
import json, select, socket, sys, time
host, stall, ports = sys.argv[1], int(sys.argv[2]), [int(p) for p in sys.argv[3].split(",")]
family = socket.AF_INET6 if ":" in host else socket.AF_INET
socks = {}
for p in [stall] + ports:
    if p not in socks:
        socks[p] = socket.socket(family, socket.SOCK_DGRAM)
        socks[p].connect((host, p))
        socks[p].setblocking(False)
socks[stall].send(b"stall")
time.sleep(0.3)
for p in ports:
    socks[p].send(b"mixed")
seen = {p: {"replies": 0, "refused": False} for p in socks}
deadline = time.time() + 6
while time.time() < deadline:
    ready, _, _ = select.select(list(socks.values()), [], [], 0.2)
    for p, s in socks.items():
        if s in ready:
            try:
                s.recv(100)
                seen[p]["replies"] += 1
            except ConnectionRefusedError:
                seen[p]["refused"] = True
print(json.dumps(seen))
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

interface Seen {
  family?: number;
  sport?: number;
  dport?: number;
  direction?: string;
  established?: boolean;
  ifindex?: number;
  closed?: boolean;
  stats?: { received: number; kernel: { inQueue: number; queueDropped: number; userDropped: number; idSequence: number } | null };
}

interface Consumer {
  seen: Seen[];
  closeQueue(): Promise<void>;
  exited: Promise<number | null>;
}

async function setUp(t: { teardown(fn: () => unknown): void }): Promise<Lab> {
  const lab = await labFor(t);
  for (const [cmd, reject] of [['iptables', 'icmp-port-unreachable'], ['ip6tables', 'icmp6-port-unreachable']] as const) {
    const ipt = (...args: string[]) => lab.exec(lab.server, cmd, ['-w', ...args]);
    // Ours, as the agent lays it out: re-injected packets go on (PASS), or go on and mark their
    // flow done (DONE), or go on to filter's reject (REJECT); done flows are not queued again.
    await ipt('-t', 'mangle', '-N', 'T');
    await ipt('-t', 'mangle', '-A', 'T', ...mark(PASS_MARK), '-j', 'RETURN');
    await ipt('-t', 'mangle', '-A', 'T', ...mark(DONE_MARK), '-j', 'CONNMARK', '--set-xmark', `${hex(CONNMARK_DONE_IN)}/${hex(CONNMARK_DONE_IN)}`);
    await ipt('-t', 'mangle', '-A', 'T', ...mark(DONE_MARK), '-j', 'RETURN');
    await ipt('-t', 'mangle', '-A', 'T', ...mark(REJECT_MARK), '-j', 'RETURN');
    await ipt('-t', 'mangle', '-A', 'T', '-m', 'connmark', '--mark', `${hex(CONNMARK_DONE_IN)}/${hex(CONNMARK_DONE_IN)}`, '-j', 'RETURN');
    await ipt('-t', 'mangle', '-A', 'T', '-p', 'udp', '--dport', `${PORT.accept}:${PORT.blocked}`, '-j', 'NFQUEUE', '--queue-num', String(NUM));
    // Outbound: the replies from the accept port.
    await ipt('-t', 'mangle', '-A', 'T', '-p', 'udp', '--sport', String(PORT.accept), '-j', 'NFQUEUE', '--queue-num', String(NUM));
    await ipt('-t', 'mangle', '-A', 'INPUT', '-j', 'T');
    await ipt('-t', 'mangle', '-A', 'OUTPUT', '-j', 'T');
    // Theirs, after our jump: a counter of what we passed, and a DROP.
    await ipt('-t', 'mangle', '-A', 'INPUT', '-p', 'udp', '--dport', String(PORT.accept), ...mark(PASS_MARK), '-m', 'comment', '--comment', 'passed');
    await ipt('-t', 'mangle', '-A', 'INPUT', '-p', 'udp', '--dport', String(PORT.blocked), '-j', 'DROP');
    await ipt('-t', 'filter', '-A', 'INPUT', ...mark(REJECT_MARK), '-j', 'REJECT', '--reject-with', reject);
  }
  const echo = lab.spawn(lab.server, process.execPath, ['-e', ECHO, ...Object.values(PORT).map(String)], { stdio: 'ignore' });
  t.teardown(() => void echo.kill());
  return lab;
}

async function startConsumer(t: { teardown(fn: () => unknown): void }, lab: Lab, opts: { maxLen: number; failOpen: boolean }): Promise<Consumer> {
  const child = lab.spawn(lab.server, process.execPath, ['--input-type=module', '-e', CONSUMER, DIST, JSON.stringify({ num: NUM, ...opts })], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const seen: Seen[] = [];
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

/** Packets counted by the mangle rule with this comment. */
async function counted(lab: Lab, family: 4 | 6, comment: string): Promise<number> {
  const { stdout } = await lab.exec(lab.server, family === 4 ? 'iptables-save' : 'ip6tables-save', ['-c', '-t', 'mangle']);
  const line = stdout.split('\n').find((l) => l.includes(`--comment ${comment}`));
  return Number(/^\[(\d+):/.exec(line ?? '')?.[1]);
}

t.test('verdicts over IPv4 and IPv6, then close', async (t) => {
  const lab = await setUp(t);
  const c = await startConsumer(t, lab, { maxLen: 1024, failOpen: false });
  const { server4, server6 } = lab.client;
  const clientLink = JSON.parse((await lab.exec(lab.server, 'ip', ['-j', 'link', 'show', 's2'])).stdout)[0].ifindex as number;

  t.equal(await send(lab, server4, PORT.accept), 'reply', 'v4 accept: the service answers');
  t.equal(await send(lab, server6, PORT.accept), 'reply', 'v6 accept: the service answers');
  t.equal(await counted(lab, 4, 'passed'), 1, 'v4 accept: the rule after our chain saw the packet, with the PASS mark');
  t.equal(await counted(lab, 6, 'passed'), 1, 'v6 accept: the rule after our chain saw the packet, with the PASS mark');
  t.equal(await send(lab, server4, PORT.blocked), 'timeout', 'v4 accept: a DROP rule after our chain still drops');
  t.equal(await send(lab, server6, PORT.blocked), 'timeout', 'v6 accept: a DROP rule after our chain still drops');
  t.equal(await send(lab, server4, PORT.drop), 'timeout', 'v4 drop: nothing comes back');
  t.equal(await send(lab, server6, PORT.drop), 'timeout', 'v6 drop: nothing comes back');
  t.equal(await send(lab, server4, PORT.reject), 'refused', 'v4 reject: ICMP port unreachable');
  t.equal(await send(lab, server6, PORT.reject), 'refused', 'v6 reject: ICMPv6 port unreachable');
  t.equal(await send(lab, server4, PORT.done, 2), '2', 'v4 done: both datagrams of the flow are answered');
  t.equal(await send(lab, server6, PORT.done, 2), '2', 'v6 done: both datagrams of the flow are answered');

  const inbound = c.seen.filter((s) => s.direction === 'inbound');
  t.match(inbound, [
    { family: 4, dport: PORT.accept, established: false, ifindex: clientLink },
    { family: 6, dport: PORT.accept, established: false, ifindex: clientLink },
    { family: 4, dport: PORT.blocked },
    { family: 6, dport: PORT.blocked },
    { family: 4, dport: PORT.drop },
    { family: 6, dport: PORT.drop },
    { family: 4, dport: PORT.reject },
    { family: 6, dport: PORT.reject },
    { family: 4, dport: PORT.done },
    { family: 6, dport: PORT.done },
  ], 'each inbound packet reached the handler once, with the client link as its interface; a done flow was queued once');
  t.equal(inbound.length, 10, 'the second datagram of a done flow was not queued');
  t.ok(inbound.every((s) => s.ifindex === clientLink), `every inbound packet came in on the client link (ifindex ${clientLink})`);
  t.match(c.seen.filter((s) => s.direction === 'outbound'), [
    { family: 4, sport: PORT.accept, ifindex: clientLink },
    { family: 6, sport: PORT.accept, ifindex: clientLink },
  ], 'the replies were queued outbound, with the client link as their out-interface');

  t.ok(await queueListed(lab), 'the queue is bound while running');
  await c.closeQueue();
  const closed = c.seen.find((s) => s.closed);
  t.match(closed, { stats: { received: 12, kernel: { inQueue: 0, queueDropped: 0, userDropped: 0 } } }, 'stats counted the judged packets, and the kernel its own');
  t.ok((closed?.stats?.kernel?.idSequence ?? 0) >= 12, `the kernel's id sequence covers them (${closed?.stats?.kernel?.idSequence})`);
  t.notOk(await queueListed(lab), 'close unbinds the queue');
  const code = await Promise.race([c.exited, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
  t.equal(code, 0, 'with the queue closed, nothing holds the event loop: the process exits');
});

t.test('one batch of mixed verdicts: each packet gets its own', async (t) => {
  const lab = await setUp(t);
  const c = await startConsumer(t, lab, { maxLen: 1024, failOpen: false });
  const { accept, drop, reject, done } = PORT;
  // Runs of one verdict and single ones, so batch verdicts and single ones alternate.
  const order = [accept, accept, drop, drop, accept, reject, reject, done, accept, drop, done, done, accept];
  for (const host of [lab.client.server4, lab.client.server6]) {
    const out = JSON.parse((await lab.exec(lab.client.ns, '/usr/bin/python3', ['-c', MIXED, host, String(PORT.stall), order.join(',')], { timeoutMs: 20_000 })).stdout);
    t.match(out, {
      [accept]: { replies: 5, refused: false },
      [drop]: { replies: 0, refused: false },
      [reject]: { replies: 0, refused: true },
      [done]: { replies: 3, refused: false },
    }, `${host}: accepted and done datagrams answered, dropped ones not, rejected ones refused`);
  }
  t.equal(c.seen.filter((s) => s.direction === 'inbound' && s.dport !== PORT.stall).length, 2 * order.length, 'every datagram was judged');
});

t.test('a full queue: fail-open passes traffic uncounted, fail-closed drops and counts it', async (t) => {
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
      t.equal(stats?.kernel?.idSequence, stats?.received, "the kernel's id sequence counts only what got into the queue");
      // What the kernel reports of an overflow: its drops when fail-closed, nothing when fail-open.
      if (failOpen) t.equal(stats?.kernel?.queueDropped, 0, 'fail-open: the kernel does not count the overflow it accepts');
      else t.ok(stats?.kernel && stats.kernel.queueDropped > 0, `fail-closed: the kernel's drops are reported (${stats?.kernel?.queueDropped})`);
    });
  }
});
