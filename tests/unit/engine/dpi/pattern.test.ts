// Compiled payload patterns: text as UTF-8 bytes, hex bytes, regexes over latin1; the seam between
// the previous window and new data is searched; each pattern says how much it must carry.
import t from 'tap';
import { compilePattern, REGEX_WINDOW } from '../../../../agent/src/engine/dpi/pattern.js';

const EMPTY = Buffer.alloc(0);
const b = (s: string) => Buffer.from(s, 'latin1');

t.test('text: the UTF-8 bytes of the text, anywhere in the data', async (t) => {
  const p = compilePattern({ text: 'passwd' });
  t.equal(p.carry, 5);
  t.ok(p.test(EMPTY, b('GET /etc/passwd HTTP/1.1')));
  t.notOk(p.test(EMPTY, b('GET /etc/PASSWD')), 'case matters');
  const utf8 = compilePattern({ text: 'é' });
  t.equal(utf8.carry, 1, 'two bytes in UTF-8');
  t.ok(utf8.test(EMPTY, Buffer.from([0x41, 0xc3, 0xa9])));
  t.notOk(utf8.test(EMPTY, Buffer.from([0xe9])), 'not the latin1 byte');
});

t.test('hex: bytes, spaces ignored', async (t) => {
  const p = compilePattern({ hex: 'de ad be ef' });
  t.equal(p.carry, 3);
  t.ok(p.test(EMPTY, Buffer.from([0, 0xde, 0xad, 0xbe, 0xef, 0])));
  t.notOk(p.test(EMPTY, Buffer.from([0xde, 0xad, 0xbe])));
});

t.test('regex: over bytes read as latin1, with flags; carries a fixed window', async (t) => {
  const p = compilePattern({ regex: 'union\\s+select', flags: '' });
  t.equal(p.carry, REGEX_WINDOW);
  t.ok(p.test(EMPTY, b("id=1' union  select 1")));
  t.notOk(p.test(EMPTY, b('union')));
  const bytes = compilePattern({ regex: '\\xff\\x00[\\x80-\\xff]', flags: '' });
  t.ok(bytes.test(EMPTY, Buffer.from([1, 0xff, 0x00, 0x90])), 'any byte value can be named');
  const dotAll = compilePattern({ regex: 'a.b', flags: 's' });
  t.ok(dotAll.test(EMPTY, b('a\nb')));
});

t.test('the seam: a match split between the tail and the data is found, bytes beyond carry are not used', async (t) => {
  const p = compilePattern({ text: 'passwd' });
  t.ok(p.test(b('GET /etc/pas'), b('swd')));
  t.ok(p.test(b('p'), b('asswd')));
  t.ok(p.test(b('passw'), b('d')));
  t.notOk(p.test(b('xxxx'), b('passw')));
  t.ok(p.test(b('xxxx'), b('passwd')), 'a match inside the data alone');
  const r = compilePattern({ regex: 'pass(wd)', flags: '' });
  t.ok(r.test(b('GET /etc/pa'), b('sswd')));
  const far = Buffer.concat([b('pa'), Buffer.alloc(REGEX_WINDOW, 0x20)]);
  t.notOk(compilePattern({ regex: 'pa +x', flags: '' }).test(far, b('x')), 'older than the window: not seen');
  t.ok(compilePattern({ regex: ' +x', flags: '' }).test(far, b('x')));
});

t.test('one-byte needles carry nothing', async (t) => {
  const p = compilePattern({ hex: '00' });
  t.equal(p.carry, 0);
  t.ok(p.test(b('abc'), Buffer.from([1, 0])));
  t.notOk(p.test(Buffer.from([0]), b('x')), 'a byte in the tail was already searched');
});
