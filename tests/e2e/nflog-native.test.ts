// The native NFLOG reader against the kernel, in a lab: rules in the server namespace log UDP to
// a few ports to an NFLOG group and drop it on the next rule. A reader (NflogReader from the build)
// in the server namespace gets every logged packet's bytes, direction and interface, IPv4 and
// IPv6, while the packet itself is dropped; a rule's --nflog-size cuts the copy; a second reader
// of a taken group, and one without CAP_NET_ADMIN, get errors that say so; close unbinds the
// group (the process exits by itself) and another reader can bind it after.
import t from 'tap';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { labFor, type Lab } from '../lib/netns.js';

const GROUP = 5;
/** Inbound and logged whole; inbound and logged cut to 48 bytes; outbound. */
const PORT = { whole: 7100, cut: 7101, out: 7102 };
const CUT = 48;
const DIST = fileURLToPath(new URL('../../agent/dist/queue/nflog.js', import.meta.url));

// Prints each logged packet; on SIGUSR2 closes and prints its stats, and must then exit by itself.
// A reader that cannot start prints the error.
const READER = `
const { NflogReader } = await import(process.argv[1]);
const r = new NflogReader({ group: Number(process.argv[2]) });
try {
  r.start((p) => console.log(JSON.stringify({ hex: p.payload.toString('hex'), direction: p.direction, ifindex: p.ifindex })));
} catch (err) {
  console.log(JSON.stringify({ error: err.message, code: err.code }));
  process.exit(0);
}
process.on('SIGUSR2', () => {
  const stats = r.stats();
  r.close();
  console.log(JSON.stringify({ closed: true, stats }));
});
console.error('ready');
`;

/** Sends one datagram from a namespace; prints "sent", or the error the kernel gave the sender. */
const SEND = `
import socket, sys
host, port, text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(text.encode(), (host, port))
    print("sent")
except OSError as e:
    print(e.strerror)
`;

interface Line {
  hex?: string;
  direction?: string;
  ifindex?: number;
  error?: string;
  code?: string;
  closed?: boolean;
  stats?: { received: number };
}

interface Reader {
  lines: Line[];
  exited: Promise<number | null>;
  stderr: () => string;
  /** SIGUSR2: the reader closes and prints its stats. */
  closeReader(): Promise<void>;
}

async function setUp(t: { teardown(fn: () => unknown): void }): Promise<Lab> {
  const lab = await labFor(t);
  for (const cmd of ['iptables', 'ip6tables']) {
    const ipt = (...args: string[]) => lab.exec(lab.server, cmd, ['-w', ...args]);
    await ipt('-A', 'INPUT', '-p', 'udp', '--dport', String(PORT.whole), '-j', 'NFLOG', '--nflog-group', String(GROUP));
    await ipt('-A', 'INPUT', '-p', 'udp', '--dport', String(PORT.cut), '-j', 'NFLOG', '--nflog-group', String(GROUP), '--nflog-size', String(CUT));
    await ipt('-A', 'INPUT', '-p', 'udp', '--dport', `${PORT.whole}:${PORT.cut}`, '-m', 'comment', '--comment', 'dropped', '-j', 'DROP');
    await ipt('-A', 'OUTPUT', '-p', 'udp', '--dport', String(PORT.out), '-j', 'NFLOG', '--nflog-group', String(GROUP));
    await ipt('-A', 'OUTPUT', '-p', 'udp', '--dport', String(PORT.out), '-j', 'DROP');
  }
  return lab;
}

/** A reader process in the server namespace (under `wrap`, e.g. setpriv); resolves once it is bound or has failed. */
async function startReader(t: { teardown(fn: () => unknown): void }, lab: Lab, wrap: string[] = []): Promise<Reader> {
  const [cmd, ...pre] = [...wrap, process.execPath];
  const child = lab.spawn(lab.server, cmd!, [...pre, '--input-type=module', '-e', READER, DIST, String(GROUP)], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const lines: Line[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(JSON.parse(l)));
  for (let i = 0; i < 200 && !stderr.includes('ready') && !lines.some((l) => l.error); i++) {
    if (await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))])) break;
  }
  return {
    lines,
    exited,
    stderr: () => stderr,
    closeReader: async () => {
      child.kill('SIGUSR2');
      for (let i = 0; i < 100 && !lines.some((l) => l.closed); i++) await new Promise((r) => setTimeout(r, 50));
    },
  };
}

const send = async (lab: Lab, ns: string, host: string, port: number, text: string) =>
  (await lab.exec(ns, '/usr/bin/python3', ['-c', SEND, host, String(port), text], { timeoutMs: 15_000 })).stdout.trim();

async function waitFor(lines: Line[], n: number): Promise<void> {
  for (let i = 0; i < 100 && lines.filter((l) => l.hex).length < n; i++) await new Promise((r) => setTimeout(r, 50));
}

const dropped = async (lab: Lab, family: 4 | 6) => {
  const { stdout } = await lab.exec(lab.server, family === 4 ? 'iptables-save' : 'ip6tables-save', ['-c', '-t', 'filter']);
  return Number(/^\[(\d+):/.exec(stdout.split('\n').find((l) => l.includes('--comment dropped')) ?? '')?.[1]);
};

t.test('logged packets reach the reader while the kernel drops them', async (t) => {
  const lab = await setUp(t);
  const r = await startReader(t, lab);
  t.ok(r.stderr().includes('ready'), `the reader bound group ${GROUP}: ${r.stderr()}`);
  const clientLink = JSON.parse((await lab.exec(lab.server, 'ip', ['-j', 'link', 'show', 's2'])).stdout)[0].ifindex as number;
  const { ip4, ip6, server4, server6 } = lab.client;
  const long = 'x'.repeat(200);

  t.equal(await send(lab, lab.client.ns, server4, PORT.whole, 'nflog-v4'), 'sent');
  t.equal(await send(lab, lab.client.ns, server6, PORT.whole, 'nflog-v6'), 'sent');
  t.equal(await send(lab, lab.client.ns, server4, PORT.cut, long), 'sent');
  t.equal(await send(lab, lab.client.ns, server6, PORT.cut, long), 'sent');
  t.equal(await send(lab, lab.server, ip4, PORT.out, 'out-v4'), 'Operation not permitted', 'outbound v4: the sender hears the drop');
  t.equal(await send(lab, lab.server, ip6, PORT.out, 'out-v6'), 'Operation not permitted', 'outbound v6: the sender hears the drop');
  await waitFor(r.lines, 6);
  t.equal(await dropped(lab, 4), 2, 'IPv4: the rule after NFLOG dropped both inbound packets');
  t.equal(await dropped(lab, 6), 2, 'IPv6: the rule after NFLOG dropped both inbound packets');

  const got = r.lines.filter((l) => l.hex).map((l) => ({ ...l, bytes: Buffer.from(l.hex!, 'hex') }));
  t.equal(got.length, 6, 'every logged packet was read once');
  const [w4, w6, c4, c6, o4, o6] = got;
  // Whole packets: IP header, UDP header, the datagram's text.
  t.same(w4?.bytes.subarray(28).toString(), 'nflog-v4', 'v4: the whole datagram');
  t.equal(w4?.bytes.readUInt16BE(2), w4?.bytes.length, 'v4: as long as its header says');
  t.same([...w4!.bytes.subarray(12, 16)].join('.'), ip4, 'v4: from the client');
  t.same(w6?.bytes.subarray(48).toString(), 'nflog-v6', 'v6: the whole datagram');
  t.equal(w6!.bytes.readUInt16BE(4) + 40, w6?.bytes.length, 'v6: as long as its header says');
  t.match(w4, { direction: 'inbound', ifindex: clientLink }, 'v4: inbound on the client link');
  t.match(w6, { direction: 'inbound', ifindex: clientLink }, 'v6: inbound on the client link');
  // --nflog-size: the kernel copies what the rule asks, less than the reader's range.
  t.equal(c4?.bytes.length, CUT, `v4: the copy is cut to --nflog-size ${CUT}`);
  t.equal(c4?.bytes.readUInt16BE(2), 28 + long.length, "v4: the header still tells the packet's length");
  t.equal(c6?.bytes.length, CUT, `v6: the copy is cut to --nflog-size ${CUT}`);
  t.match(o4, { direction: 'outbound', ifindex: clientLink }, 'v4 outbound: the out-interface');
  t.match(o6, { direction: 'outbound', ifindex: clientLink }, 'v6 outbound: the out-interface');
  t.same(o4?.bytes.subarray(28).toString(), 'out-v4');
  t.same(o6?.bytes.subarray(48).toString(), 'out-v6');

  const second = await startReader(t, lab);
  t.match(second.lines, [{ code: 'VPSFW_ERR_QUEUE', error: new RegExp(`NFLOG group ${GROUP}.*another process is bound to this group`) }], 'a second reader of the group is refused, saying why');
  const unprivileged = await startReader(t, lab, ['setpriv', '--inh-caps=-all', '--bounding-set=-net_admin']);
  t.match(unprivileged.lines, [{ code: 'VPSFW_ERR_QUEUE', error: /lacks CAP_NET_ADMIN/ }], 'a reader without CAP_NET_ADMIN is refused, saying why');

  await r.closeReader();
  t.match(r.lines.find((l) => l.closed), { stats: { received: 6 } }, 'stats counted the logged packets');
  const code = await Promise.race([r.exited, new Promise((res) => setTimeout(() => res('still running'), 10_000))]);
  t.equal(code, 0, 'with the group closed, nothing holds the event loop: the process exits');

  const next = await startReader(t, lab);
  t.ok(next.stderr().includes('ready'), 'after close, another reader binds the group');
  t.equal(await send(lab, lab.client.ns, server4, PORT.whole, 'again'), 'sent');
  await waitFor(next.lines, 1);
  t.same(next.lines.map((l) => Buffer.from(l.hex ?? '', 'hex').subarray(28).toString()), ['again'], 'and reads what is logged');
});
