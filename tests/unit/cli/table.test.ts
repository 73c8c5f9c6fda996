// Text tables: headed and aligned columns; with a width, no line wider than it, cells wrapped at spaces.
import t from 'tap';
import { formatTable, wrap } from '../../../agent/src/cli/table.js';

t.test('wrap: at spaces, a word longer than the width cut', async (t) => {
  t.same(wrap('one two three', 7), ['one two', 'three']);
  t.same(wrap('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
  t.same(wrap('', 5), ['']);
});

t.test('no width: one line per row, columns padded, the last not', async (t) => {
  t.equal(formatTable(['a', 'bb'], [['xxx', 'y'], ['z', 'long text']]), 'a    bb\n---  ---------\nxxx  y\nz    long text');
});

t.test('a width: the widest columns narrowed and wrapped, headers whole', async (t) => {
  const out = formatTable(['#', 'what', 'result'], [['1', 'a long description of what happened in this scene', 'OK']], { width: 30 });
  const lines = out.split('\n');
  t.ok(lines.every((l) => l.length <= 30), out);
  t.match(lines[0], /^#\s+what\s+result$/);
  t.equal(lines[2]!.indexOf('OK'), lines[0]!.indexOf('result'), 'the result column keeps its place');
  t.same(lines.slice(2).map((l) => l.slice(3, lines[0]!.indexOf('result')).trim()).join(' '), 'a long description of what happened in this scene', 'nothing lost in the wrapping');
});
