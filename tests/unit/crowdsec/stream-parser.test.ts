// The stream's JSON cut into decisions a piece at a time: wherever the pieces break (inside a
// string, an escape, between objects), the same decisions come out, in order, and a broken or
// truncated answer is an error, never a partial success.
import t from 'tap';
import { StreamParser } from '../../../agent/src/crowdsec/stream-parser.js';

const answer = {
  deleted: [{ duration: '-13ms', id: 1, origin: 'cscli', scenario: 'a "quoted" {brace} [x] \\ back', scope: 'Ip', type: 'ban', value: '192.0.2.7' }],
  new: [
    { duration: '9m59s', id: 3, origin: 'cscli', scenario: 'test/scen', scope: 'Range', type: 'ban', value: '203.0.113.0/24' },
    { duration: '3h59m', id: 2, origin: 'CAPI', scenario: 'ünïcødé ✓', scope: 'Ip', type: 'ban', value: '2001:db8::5' },
  ],
};

function parseIn(text: string, pieces: number[]) {
  const p = new StreamParser();
  const out = [];
  let at = 0;
  for (const n of pieces) {
    out.push(...p.push(text.slice(at, at + n)));
    at += n;
  }
  out.push(...p.push(text.slice(at)));
  p.end();
  return out;
}

t.test('every split gives the same decisions', async (t) => {
  const text = JSON.stringify(answer, null, 1);
  const want = [...answer.deleted.map((d) => ({ list: 'deleted', decision: d })), ...answer.new.map((d) => ({ list: 'new', decision: d }))];
  t.same(parseIn(text, []), want, 'whole');
  for (let i = 1; i < text.length; i++) {
    if (JSON.stringify(parseIn(text, [i])) !== JSON.stringify(want)) return t.fail(`split at ${i} differs`);
  }
  t.same(parseIn(text, Array(text.length).fill(1)), want, 'a character at a time');
});

t.test('null lists, empty lists, the LAPI compact form', async (t) => {
  t.same(parseIn('{"deleted":null,"new":null}', []), []);
  t.same(parseIn('{"deleted":[],"new":[]}', [5]), []);
});

t.test('not the stream: errors', async (t) => {
  t.throws(() => parseIn('[1,2]', []), SyntaxError);
  t.throws(() => parseIn('', []), /empty/);
  t.throws(() => parseIn('{"new":[{"id":1}', []), /before its closing/);
  t.throws(() => parseIn('{"new":[]} {}', []), /after the answer/);
  t.throws(() => parseIn('{"new":[{"id":1,}]}', []), SyntaxError, 'a broken object');
});
