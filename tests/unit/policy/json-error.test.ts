// A broken policy file is located by line and column, in words: whatever Node's JSON.parse says
// (a position on Node 20, a snippet for "Unexpected token"), the scanner names the place.
import t from 'tap';
import { findJsonSyntaxError } from '../../../agent/src/policy/json-error.js';

t.test('the first error, by line and column, with what was expected', async (t) => {
  const cases: Array<[string, { line: number; column: number; message: string }]> = [
    ['{\n  "version": 1,\n  "rules": [}\n', { line: 3, column: 13, message: 'expected a value (an object, array, string, number, true, false or null), found "}"' }],
    ['{"a":1', { line: 1, column: 7, message: 'expected "," or "}", the text ends' }],
    ['{"a": 1,\n}', { line: 2, column: 1, message: 'expected a key in double quotes, found "}"' }],
    ['{ version: 1 }', { line: 1, column: 3, message: 'expected a key in double quotes, found "v"' }],
    ['{\n "a": tru\n}', { line: 2, column: 7, message: 'expected a value (an object, array, string, number, true, false or null), found "t"' }],
    ['[1 2]', { line: 1, column: 4, message: 'expected "," or "]", found "2"' }],
    ['{"a": "x\ny"}', { line: 1, column: 9, message: 'expected no line break or control character inside a string (write \\n), found "\\n"' }],
    ['{"a": "\\q"}', { line: 1, column: 9, message: 'expected an escape: \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX, found "q"' }],
    ['{"a": 01}', { line: 1, column: 8, message: 'expected "," or "}", found "1"' }],
    ['{} {}', { line: 1, column: 4, message: 'expected the end of the document, found "{"' }],
    ['', { line: 1, column: 1, message: 'expected a value (an object, array, string, number, true, false or null), the text ends' }],
  ];
  for (const [text, want] of cases) t.same(findJsonSyntaxError(text), want, JSON.stringify(text));
});

t.test('agrees with JSON.parse on what is valid', async (t) => {
  const valid = ['{}', '[]', '{"a":[1,-2.5e+3,true,false,null,"\\u00e9\\n"]}', ' \n{ "x" : { } }\n', '"s"', '0', '-0.1'];
  for (const v of valid) t.equal(findJsonSyntaxError(v), null, v);
  // Every prefix of a valid document but the whole is invalid to both.
  const doc = JSON.stringify({ version: 1, rules: [{ name: 'ssh', ports: [22, '80-90'], ok: true, x: null }] }, null, 2);
  for (let n = 0; n < doc.length; n++) {
    const prefix = doc.slice(0, n);
    let parses = true;
    try {
      JSON.parse(prefix);
    } catch {
      parses = false;
    }
    t.equal(findJsonSyntaxError(prefix) === null, parses, `prefix of ${n} characters`);
  }
});
