// Per-flow windows: the last `carry` bytes, in a stretch of one arena that does not grow with the
// stream; sequence arithmetic across the 32-bit wrap; lazy idle expiry and eviction at the cap.
import t from 'tap';
import { FlowTable, seqDiff } from '../../../../agent/src/engine/dpi/stream.js';

const key = (n: number) => Uint32Array.from({ length: 3 }, (_, i) => (i === 0 ? n : 0));
const tail = (f: FlowTable, s: number) => Buffer.from(f.arena.subarray(f.windowAt(s), f.windowAt(s) + f.windowLength[s]!)).toString('latin1');
const remember = (f: FlowTable, s: number, text: string, carry = f.stride) => {
  // Inside a larger buffer: only the given stretch may be taken.
  const b = Buffer.from(`<<${text}>>`, 'latin1');
  f.remember(s, b, 2, text.length, carry);
};

t.test('remember keeps the last `carry` bytes in the flow\'s own stretch', async (t) => {
  const flows = new FlowTable(3, 10, 1000, 4);
  const s = flows.open(key(1), 0, 0);
  const other = flows.open(key(2), 0, 0);
  remember(flows, other, 'ZZZZ');
  remember(flows, s, 'ab');
  t.equal(tail(flows, s), 'ab');
  remember(flows, s, 'cde');
  t.equal(tail(flows, s), 'bcde');
  remember(flows, s, '0123456789');
  t.equal(tail(flows, s), '6789');
  for (let i = 0; i < 1000; i++) remember(flows, s, `segment ${i};`);
  t.equal(tail(flows, s), '999;');
  remember(flows, s, 'xy', 2);
  t.equal(tail(flows, s), 'xy', 'a narrower carry for this packet keeps fewer bytes');
  t.equal(tail(flows, other), 'ZZZZ', 'the neighbouring flow is untouched');
});

t.test('a new stride (after a reload) resizes every window once, keeping what fits', async (t) => {
  const flows = new FlowTable(3, 10, 1000, 6);
  const s = flows.open(key(1), 0, 0);
  remember(flows, s, 'abcdef');
  flows.setStride(3);
  t.equal(tail(flows, s), 'def');
  remember(flows, s, 'g');
  t.equal(tail(flows, s), 'efg');
  flows.setStride(0);
  remember(flows, s, 'h');
  t.equal(flows.windowLength[s], 0, 'no window at all');
});

t.test('open restarts a flow; block remembers the verdict', async (t) => {
  const flows = new FlowTable(3, 10, 1000, 4);
  const s = flows.open(key(1), 100, 0);
  remember(flows, s, 'abcd');
  flows.seen[s] = 4;
  const v = { action: 'drop', by: { kind: 'payload', name: 'x' }, reason: 'x' } as const;
  flows.block(s, v);
  t.equal(flows.blocked(s), v);
  t.equal(flows.open(key(1), 200, 5), s, 'the same flow');
  t.same([flows.nextSeq[s], flows.windowLength[s], flows.seen[s], flows.lastSeen[s], flows.blocked(s)], [200, 0, 0, 5, null], 'afresh');
});

t.test('seqDiff is signed across the wrap', async (t) => {
  t.equal(seqDiff(5, 0xfffffffe), 7);
  t.equal(seqDiff(0xfffffffe, 5), -7);
  t.equal(seqDiff(100, 100), 0);
});

t.test('idle flows expire on access and on sweep; the least recently seen is evicted at the cap', async (t) => {
  const flows = new FlowTable(3, 2, 1000, 4);
  flows.open(key(1), 0, 0);
  t.ok(flows.get(key(1), 1000) >= 0, 'idle exactly the timeout: kept');
  t.equal(flows.get(key(1), 1001), -1, 'idle longer: gone');
  t.equal(flows.size, 0);
  flows.open(key(2), 0, 0);
  flows.open(key(3), 0, 500);
  flows.sweep(1200);
  t.equal(flows.size, 1, '2 swept, 3 kept');
  flows.open(key(4), 0, 600);
  flows.get(key(3), 650);
  flows.open(key(5), 0, 700);
  t.equal(flows.size, 2);
  t.equal(flows.evictions, 1);
  t.equal(flows.get(key(4), 700), -1, '4 went: 3 was seen after it');
  t.ok(flows.get(key(3), 700) >= 0);
});
