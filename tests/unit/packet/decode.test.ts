// The decoder: every protocol and family round-trips through the builders; IPv4 options and
// IPv6 extension chains; fragments (first, later, tiny); a table of malformed inputs, each with
// its reason; and a seeded fuzz run that must never throw nor point outside the buffer.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { isIP, isIPv6 } from 'node:net';
import { decode } from '../../../agent/src/packet/decode.js';
import { TCP_ACK, TCP_PSH, TCP_SYN, type DecodeResult, type MalformedReason, type Packet } from '../../../agent/src/packet/types.js';
import {
  addressBytes,
  icmp,
  icmpEcho4,
  icmpEcho6,
  icmpv6,
  IPV4_DF,
  IPV4_MF,
  ipv4,
  ipv6,
  tcp,
  tcp4,
  tcp6,
  udp,
  udp4,
  udp6,
  type Ipv6Extension,
} from '../../lib/packets.js';

function ok(r: DecodeResult): Packet {
  if (typeof r === 'string') throw new Error(`decode failed: ${r}`);
  return r;
}

const payloadOf = (p: Packet) => p.buf.subarray(p.payloadOffset, p.payloadOffset + p.payloadLength).toString();

t.test('TCP over IPv4: addresses, ports, unsigned seq/ack, flags, window, options, payload view', async (t) => {
  const buf = tcp4({
    src: '198.51.100.7', dst: '192.0.2.1', ttl: 33, srcPort: 40000, dstPort: 22,
    seq: 0xfffffff0, ack: 0x80000001, flags: TCP_PSH | TCP_ACK, window: 1234,
    options: Buffer.from([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]), payload: Buffer.from('SSH-2.0-x'),
  });
  const p = ok(decode(buf));
  t.equal(p.buf, buf, 'a view over the input, not a copy');
  t.match(p, { family: 4, length: buf.length, src: '198.51.100.7', dst: '192.0.2.1', protocol: 6, ttl: 33, laterFragment: false, moreFragments: false });
  t.same(p.l4, { kind: 'tcp', srcPort: 40000, dstPort: 22, seq: 0xfffffff0, ack: 0x80000001, flags: TCP_PSH | TCP_ACK, window: 1234, headerLength: 32 });
  t.equal(p.payloadOffset, 20 + 32);
  t.equal(payloadOf(p), 'SSH-2.0-x');
});

t.test('TCP over IPv6', async (t) => {
  const buf = tcp6({ src: '2001:db8:1::2', dst: '2001:db8:1::1', hopLimit: 7, srcPort: 1, dstPort: 443, flags: TCP_SYN, seq: 5, payload: Buffer.from('hi') });
  const p = ok(decode(buf));
  t.match(p, { family: 6, length: buf.length, src: '2001:db8:1::2', dst: '2001:db8:1::1', protocol: 6, ttl: 7, payloadOffset: 60, payloadLength: 2 });
  t.match(p.l4, { kind: 'tcp', srcPort: 1, dstPort: 443, seq: 5, flags: TCP_SYN, headerLength: 20 });
});

t.test('UDP over both families; the payload ends where the UDP length says', async (t) => {
  for (const buf of [udp4({ srcPort: 5353, dstPort: 53, payload: Buffer.from('query') }), udp6({ srcPort: 5353, dstPort: 53, payload: Buffer.from('query') })]) {
    const p = ok(decode(buf));
    t.same(p.l4, { kind: 'udp', srcPort: 5353, dstPort: 53, length: 13 });
    t.equal(p.protocol, 17);
    t.equal(payloadOf(p), 'query');
  }
  // A UDP length shorter than the IP payload: the rest is not payload.
  const short = Buffer.from(udp4({ srcPort: 1, dstPort: 2, payload: Buffer.from('abcdef') }));
  short.writeUInt16BE(8 + 3, 24);
  t.equal(payloadOf(ok(decode(short))), 'abc');
});

t.test('ICMP and ICMPv6: type and code, payload after the 8-byte header', async (t) => {
  const p4 = ok(decode(icmpEcho4({ id: 1, seq: 2, payload: Buffer.from('ping') })));
  t.same(p4.l4, { kind: 'icmp', type: 8, code: 0 });
  t.equal(payloadOf(p4), 'ping');
  const p6 = ok(decode(icmpEcho6({ reply: true, payload: Buffer.from('pong') })));
  t.same(p6.l4, { kind: 'icmpv6', type: 129, code: 0 });
  t.equal(payloadOf(p6), 'pong');
  const unreach = ok(decode(ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 1, payload: icmp({ type: 3, code: 3 }) })));
  t.same(unreach.l4, { kind: 'icmp', type: 3, code: 3 });
  const ptb = ok(decode(ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nextHeader: 58, payload: icmpv6({ type: 2, code: 0 }) })));
  t.same(ptb.l4, { kind: 'icmpv6', type: 2, code: 0 });
});

t.test('an ICMP number in the other family, and unknown protocols, decode with no transport header', async (t) => {
  const v6icmp4 = ok(decode(ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nextHeader: 1, payload: Buffer.alloc(8) })));
  t.match(v6icmp4, { protocol: 1, l4: null, payloadOffset: 40, payloadLength: 8 });
  const gre = ok(decode(ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: 47, payload: Buffer.alloc(4) })));
  t.match(gre, { protocol: 47, l4: null, payloadOffset: 20, payloadLength: 4 });
});

t.test('bytes past the IP total length (link padding) are not payload', async (t) => {
  const buf = Buffer.concat([tcp4({ srcPort: 1, dstPort: 2, flags: TCP_ACK }), Buffer.alloc(6)]);
  const p = ok(decode(buf));
  t.equal(p.length, 40);
  t.equal(p.payloadLength, 0);
});

t.test('IPv4 options: the header length comes from IHL, up to 60 bytes', async (t) => {
  for (const n of [4, 8, 40]) {
    const buf = ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 6, options: Buffer.alloc(n, 1), payload: tcp({ srcPort: 9, dstPort: 80, flags: TCP_SYN, payload: Buffer.from('x') }) });
    const p = ok(decode(buf));
    t.equal(p.payloadOffset, 20 + n + 20, `${n} option bytes`);
    t.match(p.l4, { kind: 'tcp', srcPort: 9, dstPort: 80 });
    t.equal(payloadOf(p), 'x');
  }
});

t.test('IPv6 extension chains are walked to the transport header', async (t) => {
  const chains: Array<[string, Ipv6Extension[], number]> = [
    ['hop-by-hop', [{ type: 0 }], 8],
    ['hop-by-hop, destination options, routing', [{ type: 0 }, { type: 60, data: Buffer.alloc(14) }, { type: 43 }], 8 + 16 + 8],
    ['authentication header (length in 4-byte units)', [{ type: 51, data: Buffer.alloc(22) }], 24],
    ['atomic fragment', [{ type: 44 }], 8],
    ['eight headers, the most allowed', Array.from({ length: 8 }, () => ({ type: 60 as const })), 64],
  ];
  for (const [name, extensions, bytes] of chains) {
    const buf = ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: 17, extensions, payload: udp({ srcPort: 7, dstPort: 53, payload: Buffer.from('q') }) });
    const p = ok(decode(buf));
    t.equal(p.protocol, 17, name);
    t.equal(p.payloadOffset, 40 + bytes + 8, name);
    t.match(p.l4, { kind: 'udp', srcPort: 7, dstPort: 53 }, name);
    t.match(p, { laterFragment: false, moreFragments: false }, name);
  }
});

t.test('IPv6 walk stops at ESP and at no-next-header', async (t) => {
  for (const next of [50, 59]) {
    const p = ok(decode(ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: next, extensions: [{ type: 0 }], payload: Buffer.alloc(16, 0x3c) })));
    t.match(p, { protocol: next, l4: null, payloadOffset: 48, payloadLength: 16 });
  }
});

t.test('IPv4 fragments: first, later, last', async (t) => {
  const segment = tcp({ srcPort: 40000, dstPort: 80, flags: TCP_ACK, payload: Buffer.alloc(100) });
  const first = ok(decode(ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 6, flags: IPV4_MF, payload: segment.subarray(0, 64) })));
  t.match(first, { laterFragment: false, moreFragments: true, payloadOffset: 40, payloadLength: 44 });
  t.match(first.l4, { kind: 'tcp', dstPort: 80 });
  const later = ok(decode(ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 6, flags: IPV4_MF, fragOffset: 64, payload: segment.subarray(64, 96) })));
  t.match(later, { laterFragment: true, moreFragments: true, l4: null, protocol: 6, payloadOffset: 20, payloadLength: 32 });
  const last = ok(decode(ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 6, fragOffset: 96, payload: segment.subarray(96) })));
  t.match(last, { laterFragment: true, moreFragments: false, l4: null });
  const df = ok(decode(ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 6, flags: IPV4_DF, payload: segment })));
  t.match(df, { laterFragment: false, moreFragments: false });
  // A first UDP fragment: the UDP length covers the whole datagram, more than this fragment holds.
  const datagram = udp({ srcPort: 1, dstPort: 53, payload: Buffer.alloc(100) });
  const u = ok(decode(ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 17, flags: IPV4_MF, payload: datagram.subarray(0, 48) })));
  t.match(u, { l4: { kind: 'udp', length: 108 }, payloadOffset: 28, payloadLength: 40 });
});

t.test('IPv6 fragments: first, later (its data is not walked as headers), tiny', async (t) => {
  const segment = tcp({ srcPort: 40000, dstPort: 80, flags: TCP_ACK, payload: Buffer.alloc(100, 60) });
  const first = ok(decode(ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: 6, extensions: [{ type: 0 }, { type: 44, more: true }], payload: segment.subarray(0, 64) })));
  t.match(first, { protocol: 6, laterFragment: false, moreFragments: true, payloadOffset: 76 });
  t.match(first.l4, { kind: 'tcp', srcPort: 40000 });
  // Header type 60 after the fragment header, and data bytes (60, 60, ...) that would look like
  // a chain of them: a later fragment must stop at its fragment header.
  const later = ok(decode(ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: 60, extensions: [{ type: 44, offset: 64, more: true }], payload: segment.subarray(64) })));
  t.match(later, { protocol: 60, laterFragment: true, moreFragments: true, l4: null, payloadOffset: 48, payloadLength: segment.length - 64 });
  const tiny = decode(ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: 6, extensions: [{ type: 44, more: true }], payload: segment.subarray(0, 8) }));
  t.equal(tiny, 'tiny-fragment');
});

t.test('tiny fragments: a first fragment without the whole transport header, a TCP fragment at offset 8', async (t) => {
  const segment = tcp({ srcPort: 40000, dstPort: 22, flags: TCP_SYN, options: Buffer.alloc(20, 1) });
  const cases: Array<[string, Buffer]> = [
    ['TCP in 8 bytes', ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 6, flags: IPV4_MF, payload: segment.subarray(0, 8) })],
    ['TCP options cut by the fragment', ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 6, flags: IPV4_MF, payload: segment.subarray(0, 24) })],
    ['UDP in 4 bytes', ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 17, flags: IPV4_MF, payload: Buffer.alloc(4) })],
    ['ICMP in 4 bytes', ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 1, flags: IPV4_MF, payload: Buffer.alloc(4) })],
    ['TCP at offset 8 (rewrites the flags)', ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 6, fragOffset: 8, payload: segment.subarray(8) })],
    ['IPv6 TCP at offset 8', ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: 6, extensions: [{ type: 44, offset: 8 }], payload: segment.subarray(8) })],
  ];
  for (const [name, buf] of cases) t.equal(decode(buf), 'tiny-fragment', name);
  const udpAt8 = decode(ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 17, fragOffset: 8, payload: Buffer.alloc(8) }));
  t.match(udpAt8, { laterFragment: true }, 'offset 8 is only suspicious for TCP');
});

/** A copy of buf changed by fn. */
function edit(buf: Buffer, fn: (b: Buffer) => void): Buffer {
  const b = Buffer.from(buf);
  fn(b);
  return b;
}

t.test('malformed inputs each get their reason', async (t) => {
  const t4 = tcp4({ srcPort: 1, dstPort: 2, flags: TCP_SYN });
  const t6 = tcp6({ srcPort: 1, dstPort: 2, flags: TCP_SYN });
  const u4 = udp4({ srcPort: 1, dstPort: 2, payload: Buffer.from('abcd') });
  const u6 = udp6({ srcPort: 1, dstPort: 2, payload: Buffer.from('abcd') });
  const icmpShort = (v: 4 | 6) =>
    v === 4
      ? ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 1, payload: Buffer.from([8, 0, 0, 0]) })
      : ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: 58, payload: Buffer.from([128, 0, 0, 0]) });
  const chain = (n: number) => ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: 6, extensions: Array.from({ length: n }, () => ({ type: 60 as const })), payload: tcp({ srcPort: 1, dstPort: 2, flags: TCP_SYN }) });
  const cases: Array<[string, Buffer, MalformedReason]> = [
    ['empty', Buffer.alloc(0), 'empty'],
    ['version 5', edit(t4, (b) => (b[0] = 0x55)), 'bad-version'],
    ['version 0', Buffer.alloc(64), 'bad-version'],
    ['IPv4 shorter than 20 bytes', t4.subarray(0, 19), 'truncated-ip-header'],
    ['a single byte 0x45', Buffer.from([0x45]), 'truncated-ip-header'],
    ['IPv6 shorter than 40 bytes', t6.subarray(0, 39), 'truncated-ip-header'],
    ['IHL 4 (< 5)', edit(t4, (b) => (b[0] = 0x44)), 'bad-ihl'],
    ['IHL 0', edit(t4, (b) => (b[0] = 0x40)), 'bad-ihl'],
    ['IHL 15, beyond a 40-byte buffer', edit(t4, (b) => (b[0] = 0x4f)), 'bad-ihl'],
    ['total length beyond the buffer', edit(t4, (b) => b.writeUInt16BE(41, 2)), 'bad-total-length'],
    ['total length below the header', edit(t4, (b) => b.writeUInt16BE(19, 2)), 'bad-total-length'],
    ['total length 0', edit(t4, (b) => b.writeUInt16BE(0, 2)), 'bad-total-length'],
    ['IPv6 payload length beyond the buffer', edit(t6, (b) => b.writeUInt16BE(21, 4)), 'bad-total-length'],
    ['TCP cut by the IP total length', edit(t4, (b) => b.writeUInt16BE(30, 2)), 'truncated-l4-header'],
    ['TCP over IPv6 with 19 bytes', edit(t6, (b) => b.writeUInt16BE(19, 4)), 'truncated-l4-header'],
    ['TCP data offset 4 (< 5)', edit(t4, (b) => (b[32] = 0x40)), 'bad-l4-length'],
    ['TCP data offset 0', edit(t6, (b) => (b[52] = 0x00)), 'bad-l4-length'],
    ['TCP data offset 15, beyond the packet', edit(t4, (b) => (b[32] = 0xf0)), 'bad-l4-length'],
    ['UDP length beyond the packet', edit(u4, (b) => b.writeUInt16BE(13, 24)), 'bad-l4-length'],
    ['UDP length below its header', edit(u6, (b) => b.writeUInt16BE(7, 44)), 'bad-l4-length'],
    ['UDP in 4 bytes', ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 17, payload: Buffer.alloc(4) }), 'truncated-l4-header'],
    ['ICMP in 4 bytes', icmpShort(4), 'truncated-l4-header'],
    ['ICMPv6 in 4 bytes', icmpShort(6), 'truncated-l4-header'],
    ['ICMP with nothing at all', ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 1, payload: Buffer.alloc(0) }), 'truncated-l4-header'],
    ['endless IPv6 extension chain (9 headers)', chain(9), 'truncated-extension-header'],
    ['a very long chain (40 headers)', chain(40), 'truncated-extension-header'],
    ['extension header length beyond the packet', edit(chain(1), (b) => (b[41] = 200)), 'truncated-extension-header'],
    ['extension header cut by the payload length', edit(chain(1), (b) => b.writeUInt16BE(4, 4)), 'truncated-extension-header'],
    ['AH length beyond the packet', ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: 6, extensions: [{ type: 51 }], payload: Buffer.alloc(0) }).fill(0xff, 41, 42), 'truncated-extension-header'],
  ];
  for (const [name, buf, reason] of cases) t.equal(decode(buf), reason, name);
});

t.test('IPv6 addresses print as glibc inet_ntop does (what ip, ipset and tcpdump show)', async (t) => {
  const table: Array<[string, string]> = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0000', '::'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0001:0000:0000:0000:0001', '2001:db8:0:1::1'],
    ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'],
    ['fe80:0000:0000:0000:0000:0000:0000:0000', 'fe80::'],
    ['ABCD:EF01:2345:6789:ABCD:EF01:2345:6789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
    ['0000:0000:0000:0000:0000:ffff:c000:0201', '::ffff:192.0.2.1'],
    ['0000:0000:0000:0000:0000:0000:c000:0201', '::192.0.2.1'],
    ['0064:ff9b:0000:0000:0000:0000:c000:0201', '64:ff9b::c000:201'],
  ];
  const src = (hex: string) => Buffer.from(hex.replaceAll(':', ''), 'hex');
  for (const [bytes, text] of table) {
    const buf = tcp6({ srcPort: 1, dstPort: 2, flags: TCP_SYN });
    src(bytes).copy(buf, 8);
    const p = ok(decode(buf));
    t.equal(p.src, text, bytes);
    t.ok(isIPv6(p.src), `${text} is valid for net.isIPv6`);
    t.same(addressBytes(p.src), src(bytes), `${text} parses back to the same bytes`);
  }
});

/** Deterministic PRNG (mulberry32): the same inputs on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('IPv6 text matches the C library for structured and random addresses', async (t) => {
  const rnd = prng(6);
  const samples: Buffer[] = [];
  for (let i = 0; i < 400; i++) {
    // Mostly-zero groups, so runs of zeros of every length and position occur.
    const b = Buffer.alloc(16);
    for (let g = 0; g < 8; g++) if (rnd() < 0.4) b.writeUInt16BE(rnd() < 0.2 ? 0xffff : Math.floor(rnd() * 0x10000), 2 * g);
    samples.push(b);
  }
  const hex = samples.map((b) => b.toString('hex')).join('\n');
  const script = 'import socket,sys\nfor l in sys.stdin.read().split():\n  print(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(l)))';
  const expected = execFileSync('/usr/bin/python3', ['-c', script], { input: hex, encoding: 'utf8' }).trim().split('\n');
  t.equal(expected.length, samples.length);
  let mismatches = 0;
  samples.forEach((bytes, i) => {
    const buf = tcp6({ srcPort: 1, dstPort: 2, flags: TCP_SYN });
    bytes.copy(buf, 24);
    const got = ok(decode(buf)).dst;
    if (got !== expected[i]) {
      mismatches++;
      t.equal(got, expected[i], bytes.toString('hex'));
    }
  });
  t.equal(mismatches, 0);
});

t.test('fuzz: random, truncated and mutated buffers never throw, and every ok result stays inside its buffer', async (t) => {
  const rnd = prng(0x5eed);
  const int = (n: number) => Math.floor(rnd() * n);
  const seeds = [
    tcp4({ srcPort: 1, dstPort: 2, flags: TCP_SYN, options: Buffer.alloc(8, 1), payload: Buffer.from('GET / HTTP/1.1\r\n') }),
    tcp6({ srcPort: 1, dstPort: 2, flags: TCP_ACK, payload: Buffer.alloc(30, 0x61) }),
    udp4({ srcPort: 1, dstPort: 53, payload: Buffer.alloc(20) }),
    udp6({ srcPort: 1, dstPort: 53, payload: Buffer.alloc(20) }),
    icmpEcho4({ payload: Buffer.alloc(16) }),
    icmpEcho6({ payload: Buffer.alloc(16) }),
    ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 6, options: Buffer.alloc(12, 7), flags: IPV4_MF, payload: Buffer.alloc(24) }),
    ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: 6, extensions: [{ type: 0 }, { type: 43 }, { type: 44, more: true }, { type: 51 }, { type: 60 }], payload: tcp({ srcPort: 3, dstPort: 4, flags: TCP_SYN }) }),
    ipv6({ src: '2001:db8::2', dst: '2001:db8::1', nextHeader: 99, extensions: [{ type: 60 }, { type: 51 }], payload: Buffer.alloc(16) }),
    ipv4({ src: '192.0.2.2', dst: '192.0.2.1', protocol: 47, payload: Buffer.alloc(16) }),
  ];
  // Length bytes and small or extreme values find the edge cases faster than uniform noise.
  const value = () => (rnd() < 0.5 ? int(256) : [0, 1, 2, 4, 5, 8, 15, 0x40, 0x45, 0x60, 0x80, 0xff][int(12)]!);
  const N = 30_000;
  let okCount = 0;
  const reasons = new Set<string>();
  let firstProblem: string | undefined;
  for (let i = 0; i < N && firstProblem === undefined; i++) {
    let buf: Buffer;
    const kind = int(4);
    if (kind === 0) {
      buf = Buffer.alloc(int(120));
      for (let j = 0; j < buf.length; j++) buf[j] = int(256);
      if (buf.length > 0 && rnd() < 0.7) buf[0] = (rnd() < 0.5 ? 0x40 : 0x60) | (buf[0]! & 0x0f);
    } else {
      buf = Buffer.from(seeds[int(seeds.length)]!);
      const flips = 1 + int(4);
      for (let j = 0; j < flips && buf.length > 0; j++) buf[int(Math.min(buf.length, 90))] = value();
      if (kind === 2) buf = buf.subarray(0, int(buf.length + 1));
      if (kind === 3 && buf.length >= 8) buf.writeUInt16BE(int(0x10000), rnd() < 0.5 ? 2 : 4);
    }
    let r: DecodeResult;
    try {
      r = decode(buf);
    } catch (err) {
      firstProblem = `threw ${String(err)} on ${buf.toString('hex')}`;
      break;
    }
    if (typeof r === 'string') {
      reasons.add(r);
      continue;
    }
    okCount++;
    const p = r;
    const bad =
      p.buf !== buf ? 'not a view of the input'
      : p.length > buf.length ? 'length beyond the buffer'
      : p.payloadOffset < 0 || p.payloadLength < 0 ? 'negative offset or length'
      : p.payloadOffset + p.payloadLength > p.length ? 'payload beyond the IP packet'
      : isIP(p.src) !== p.family || isIP(p.dst) !== p.family ? 'address text'
      : p.l4?.kind === 'tcp' && p.payloadOffset < p.l4.headerLength ? 'payload inside the TCP header'
      : undefined;
    if (bad) firstProblem = `${bad} on ${buf.toString('hex')}`;
  }
  t.equal(firstProblem, undefined);
  t.ok(okCount > N / 20, `some inputs decode (${okCount})`);
  t.ok(reasons.size >= 7, `many failure paths reached: ${[...reasons].join(', ')}`);
});
