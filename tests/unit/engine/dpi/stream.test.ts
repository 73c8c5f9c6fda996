// Per-flow windows: the last `carry` bytes, in a buffer that does not grow with the stream;
// sequence arithmetic across the 32-bit wrap; lazy idle expiry and eviction at the cap.
import t from 'tap';
import { FlowTable, remember, seqDiff, tailOf } from '../../../../agent/src/engine/dpi/stream.js';

const text = (b: Buffer) => b.toString('latin1');

t.test('remember keeps the last `carry` bytes in a fixed buffer', async (t) => {
  const flows = new FlowTable(10, 1000);
  const s = flows.open('f', 0, 0);
  remember(s, Buffer.from('ab'), 4);
  t.equal(text(tailOf(s)), 'ab');
  const w = s.window;
  remember(s, Buffer.from('cde'), 4);
  t.equal(text(tailOf(s)), 'bcde');
  remember(s, Buffer.from('0123456789'), 4);
  t.equal(text(tailOf(s)), '6789');
  for (let i = 0; i < 1000; i++) remember(s, Buffer.from(`segment ${i};`), 4);
  t.equal(text(tailOf(s)), '999;');
  t.equal(s.window, w, 'the same buffer throughout');
  t.equal(s.window.length, 4);
});

t.test('a new carry (after a reload) resizes the window once, keeping what fits', async (t) => {
  const s = new FlowTable(10, 1000).open('f', 0, 0);
  remember(s, Buffer.from('abcdef'), 6);
  remember(s, Buffer.from('g'), 3);
  t.equal(text(tailOf(s)), 'efg');
  remember(s, Buffer.from('h'), 0);
  t.equal(tailOf(s).length, 0);
});

t.test('seqDiff is signed across the wrap', async (t) => {
  t.equal(seqDiff(5, 0xfffffffe), 7);
  t.equal(seqDiff(0xfffffffe, 5), -7);
  t.equal(seqDiff(100, 100), 0);
});

t.test('idle flows expire on access and on sweep; the oldest is evicted at the cap', async (t) => {
  const flows = new FlowTable(2, 1000);
  flows.open('a', 0, 0);
  t.ok(flows.get('a', 1000), 'idle exactly the timeout: kept');
  t.equal(flows.get('a', 1001), undefined, 'idle longer: gone');
  t.equal(flows.size, 0);
  flows.open('b', 0, 0);
  flows.open('c', 0, 500);
  flows.sweep(1200);
  t.equal(flows.size, 1, 'b swept, c kept');
  flows.open('d', 0, 600);
  flows.open('e', 0, 700);
  t.equal(flows.size, 2);
  t.equal(flows.evictions, 1);
  t.equal(flows.get('c', 700), undefined, 'the oldest went');
});
