// Compiled payload patterns: text as UTF-8 bytes, hex bytes, regexes over latin1; the seam between
// the previous window and new data is searched; each pattern says how much it must carry.
import t from 'tap';
import { compilePattern, indexWithin, NOT_FOUND, REGEX_WINDOW, type CompiledPattern } from '../../../../agent/src/engine/dpi/pattern.js';

const EMPTY = Buffer.alloc(0);
const b = (s: string) => Buffer.from(s, 'latin1');
/** Tail and data each placed inside a larger buffer, between bytes that would make or complete a match if read. */
function test(p: CompiledPattern, tail: Buffer, data: Buffer): boolean {
  const pad = b('d/etc/passwd/etc/pas');
  const tb = Buffer.concat([pad, tail, pad]);
  const db = Buffer.concat([pad, data, pad]);
  return p.find(tb, pad.length, tail.length, db, pad.length, data.length) !== NOT_FOUND;
}

t.test('text: the UTF-8 bytes of the text, anywhere in the data', async (t) => {
  const p = compilePattern({ text: 'passwd' });
  t.equal(p.carry, 5);
  t.ok(test(p, EMPTY, b('GET /etc/passwd HTTP/1.1')));
  t.notOk(test(p, EMPTY, b('GET /etc/PASSWD')), 'case matters');
  const utf8 = compilePattern({ text: 'é' });
  t.equal(utf8.carry, 1, 'two bytes in UTF-8');
  t.ok(test(utf8, EMPTY, Buffer.from([0x41, 0xc3, 0xa9])));
  t.notOk(test(utf8, EMPTY, Buffer.from([0xe9])), 'not the latin1 byte');
});

t.test('hex: bytes, spaces ignored', async (t) => {
  const p = compilePattern({ hex: 'de ad be ef' });
  t.equal(p.carry, 3);
  t.ok(test(p, EMPTY, Buffer.from([0, 0xde, 0xad, 0xbe, 0xef, 0])));
  t.notOk(test(p, EMPTY, Buffer.from([0xde, 0xad, 0xbe])));
});

t.test('regex: over bytes read as latin1, with flags; carries a fixed window', async (t) => {
  const p = compilePattern({ regex: 'union\\s+select', flags: '' });
  t.equal(p.carry, REGEX_WINDOW);
  t.ok(test(p, EMPTY, b("id=1' union  select 1")));
  t.notOk(test(p, EMPTY, b('union')));
  const bytes = compilePattern({ regex: '\\xff\\x00[\\x80-\\xff]', flags: '' });
  t.ok(test(bytes, EMPTY, Buffer.from([1, 0xff, 0x00, 0x90])), 'any byte value can be named');
  const dotAll = compilePattern({ regex: 'a.b', flags: 's' });
  t.ok(test(dotAll, EMPTY, b('a\nb')));
});

t.test('the seam: a match split between the tail and the data is found, bytes beyond carry are not used', async (t) => {
  const p = compilePattern({ text: 'passwd' });
  t.ok(test(p, b('GET /etc/pas'), b('swd')));
  t.ok(test(p, b('p'), b('asswd')));
  t.ok(test(p, b('passw'), b('d')));
  t.notOk(test(p, b('xxxx'), b('passw')));
  t.ok(test(p, b('xxxx'), b('passwd')), 'a match inside the data alone');
  const r = compilePattern({ regex: 'pass(wd)', flags: '' });
  t.ok(test(r, b('GET /etc/pa'), b('sswd')));
  const far = Buffer.concat([b('pa'), Buffer.alloc(REGEX_WINDOW, 0x20)]);
  t.notOk(test(compilePattern({ regex: 'pa +x', flags: '' }), far, b('x')), 'older than the window: not seen');
  t.ok(test(compilePattern({ regex: ' +x', flags: '' }), far, b('x')));
});

t.test('one-byte needles carry nothing', async (t) => {
  const p = compilePattern({ hex: '00' });
  t.equal(p.carry, 0);
  t.ok(test(p, b('abc'), Buffer.from([1, 0])));
  t.notOk(test(p, Buffer.from([0]), b('x')), 'a byte in the tail was already searched');
});

t.test('indexWithin: only within the bounds, in JavaScript and natively alike', async (t) => {
  const needle = b('passwd');
  for (const size of [20, 1000]) {
    const hay = Buffer.alloc(size + 20, 0x20);
    hay.write('passwd', 2, 'latin1');
    hay.write('passwd', size + 10, 'latin1');
    t.equal(indexWithin(hay, 0, size, needle), 2, `${size}: the first one`);
    t.equal(indexWithin(hay, 3, size, needle), -1, `${size}: not the one beyond the end`);
    t.equal(indexWithin(hay, 3, size + 16, needle), size + 10, `${size}: found when the end allows it`);
    t.equal(indexWithin(hay, 3, size + 15, needle), -1, `${size}: one byte short`);
  }
});
