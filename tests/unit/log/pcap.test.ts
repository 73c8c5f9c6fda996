// The pcap writer: the file format byte by byte, tcpdump reading back what we wrote (v4 and v6,
// checksums from tests/lib/packets.ts included), and a file error that must not reach the packet path.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openPcapFile, PcapWriter } from '../../../agent/src/log/pcap.js';
import { TCP_ACK, TCP_SYN } from '../../../agent/src/packet/types.js';
import { icmpEcho4, icmpEcho6, ipv6, tcp, tcp4, tcp6, udp4, udp6 } from '../../lib/packets.js';

function memorySink() {
  const chunks: Buffer[] = [];
  return { chunks, write: (c: Buffer) => void chunks.push(c), bytes: () => Buffer.concat(chunks) };
}

t.test('global header: magic, version 2.4, snaplen 65535, LINKTYPE_RAW, written once at construction', async (t) => {
  const sink = memorySink();
  const w = new PcapWriter(sink);
  t.equal(sink.chunks.length, 1);
  const h = sink.bytes();
  t.equal(h.length, 24);
  t.equal(h.readUInt32LE(0), 0xa1b2c3d4);
  t.equal(h.readUInt16LE(4), 2);
  t.equal(h.readUInt16LE(6), 4);
  t.equal(h.readUInt32LE(16), 65535);
  t.equal(h.readUInt32LE(20), 101);
  w.writePacket(Buffer.from([0x45]), 0);
  t.equal(sink.bytes().readUInt32LE(0), 0xa1b2c3d4, 'no second header');
});

t.test('record: one chunk with timestamp (s, us), caplen, original length, and a copy of the bytes', async (t) => {
  const sink = memorySink();
  const w = new PcapWriter(sink);
  const pkt = tcp4({ srcPort: 1, dstPort: 2, flags: TCP_SYN });
  w.writePacket(pkt, 1_700_000_000_123.5);
  t.equal(sink.chunks.length, 2);
  const r = sink.chunks[1]!;
  t.equal(r.readUInt32LE(0), 1_700_000_000);
  t.equal(r.readUInt32LE(4), 123_500);
  t.equal(r.readUInt32LE(8), pkt.length);
  t.equal(r.readUInt32LE(12), pkt.length);
  t.same(r.subarray(16), pkt);
  pkt.fill(0);
  t.not(r[16], 0, 'the record does not share memory with the queued packet');
});

t.test('a packet over the snaplen is cut to 65535 bytes; its original length is kept', async (t) => {
  const sink = memorySink();
  new PcapWriter(sink).writePacket(Buffer.alloc(70_000, 0x45), 0);
  const r = sink.chunks[1]!;
  t.equal(r.readUInt32LE(8), 65535);
  t.equal(r.readUInt32LE(12), 70_000);
  t.equal(r.length, 16 + 65535);
});

t.test('tcpdump reads the file back: v4 and v6 TCP, UDP, ICMP echo, checksums correct', async (t) => {
  const file = join(t.testdir(), 'debug.pcap');
  const w = openPcapFile(file, (err) => t.fail(String(err)));
  const packets = [
    tcp4({ src: '198.51.100.7', dst: '192.0.2.1', srcPort: 40000, dstPort: 22, flags: TCP_SYN, seq: 0xfffffff0, options: Buffer.from([2, 4, 5, 0xb4]) }),
    tcp6({ src: '2001:db8:1::2', dst: '2001:db8:1::1', srcPort: 40001, dstPort: 443, flags: TCP_ACK, payload: Buffer.from('hello') }),
    udp4({ srcPort: 5353, dstPort: 5300, payload: Buffer.from('abc') }),
    udp6({ srcPort: 5354, dstPort: 5301, payload: Buffer.from('abcd') }),
    icmpEcho4({ id: 7, seq: 1, payload: Buffer.alloc(56) }),
    icmpEcho6({ id: 8, seq: 2, payload: Buffer.alloc(56) }),
  ];
  packets.forEach((p, i) => w.writePacket(p, 1_700_000_000_000 + i));
  await w.close();
  t.equal(readFileSync(file).length, 24 + packets.reduce((n, p) => n + 16 + p.length, 0));
  const out = execFileSync('tcpdump', ['-nn', '-vv', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  for (const want of [
    '198.51.100.7.40000 > 192.0.2.1.22: Flags [S], cksum',
    'seq 4294967280',
    '2001:db8:1::2.40001 > 2001:db8:1::1.443: Flags [.], cksum',
    '192.0.2.2.5353 > 192.0.2.1.5300: [udp sum ok]',
    '2001:db8::2.5354 > 2001:db8::1.5301: [udp sum ok]',
    '192.0.2.2 > 192.0.2.1: ICMP echo request, id 7, seq 1',
    '2001:db8::2 > 2001:db8::1: [icmp6 sum ok] ICMP6, echo request, id 8, seq 2',
  ]) t.match(out, want);
  t.equal(out.match(/\(correct\)/g)?.length, 2, 'both TCP checksums correct');
  t.notMatch(out, /bad|incorrect|wrong/i);
});

t.test('tcpdump follows an IPv6 extension chain written by the builders', async (t) => {
  const file = join(t.testdir(), 'ext.pcap');
  const w = openPcapFile(file);
  w.writePacket(
    ipv6({
      src: '2001:db8::2',
      dst: '2001:db8::1',
      nextHeader: 6,
      extensions: [{ type: 0 }, { type: 60, data: Buffer.from([1, 4, 0, 0, 0, 0]) }, { type: 43, data: Buffer.from([0, 0, 0, 0, 0, 0]) }],
      payload: tcp({ srcPort: 40002, dstPort: 80, flags: TCP_SYN }),
    }),
    0,
  );
  await w.close();
  const out = execFileSync('tcpdump', ['-nn', '-vv', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.match(out, 'HBH');
  t.match(out, 'DSTOPT');
  t.match(out, 'RT6');
  t.match(out, '40002 > 80: Flags [S], cksum');
  t.match(out, '(correct)', 'the checksum skipped the extension headers');
});

t.test('a file that cannot be opened reports once, drops records, never throws; close resolves', async (t) => {
  const errors: Error[] = [];
  let reported!: () => void;
  const failed = new Promise<void>((resolve) => (reported = resolve));
  const w = openPcapFile(join(t.testdir(), 'missing-dir', 'x.pcap'), (err) => {
    errors.push(err);
    reported();
  });
  await failed;
  w.writePacket(tcp4({ srcPort: 1, dstPort: 2, flags: TCP_SYN }), 0);
  w.writePacket(tcp4({ srcPort: 1, dstPort: 2, flags: TCP_SYN }), 0);
  await w.close();
  t.equal(errors.length, 1);
  t.match(errors[0], { code: 'ENOENT' });
  t.equal(w.dropped, 2);
});
