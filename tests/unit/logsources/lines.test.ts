// Splitting: partial lines held, long lines dropped whole, pending bytes counted.
import t from 'tap';
import { LineSplitter } from '../../../agent/src/logsources/lines.js';

t.test('a line split across chunks comes out whole, once, when its newline arrives', async (t) => {
  const s = new LineSplitter(1024, () => t.fail('nothing is too long'));
  t.same(s.push(Buffer.from('one\ntw')), ['one']);
  t.equal(s.pendingBytes, 2);
  t.same(s.push(Buffer.from('o')), []);
  t.same(s.push(Buffer.from('\r\nthree\n')), ['two', 'three'], 'CRLF is one line end');
  t.equal(s.pendingBytes, 0);
});

t.test('a line longer than the limit is skipped whole; the next line is intact', async (t) => {
  const skipped: number[] = [];
  const s = new LineSplitter(10, (n) => skipped.push(n));
  t.same(s.push(Buffer.from('short\n' + 'x'.repeat(8))), ['short']);
  t.same(s.push(Buffer.from('x'.repeat(8))), []);
  t.same(s.push(Buffer.from('x'.repeat(100) + '\nafter\n')), ['after']);
  t.equal(skipped.length, 1);
  t.same(s.push(Buffer.from('y'.repeat(20) + '\n')), []);
  t.equal(skipped.length, 2);
});
