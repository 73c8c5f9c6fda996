// The HTTP token: made once (0600, random), kept, made private again if opened up, refused when
// the file holds something else; found in a bearer header or the query; compared whole.
import t from 'tap';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { loadToken, requestToken, sameToken } from '../../../agent/src/http/token.js';

t.test('made once with mode 0600, then kept', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'state', 'http-token');
  const a = await loadToken(path);
  t.match(a, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.equal(await loadToken(path), a, 'the same token after a restart');
  t.not(await loadToken(join(dir, 'other')), a, 'another state directory, another token');
  chmodSync(path, 0o644);
  t.equal(await loadToken(path), a);
  t.equal(statSync(path).mode & 0o777, 0o600, 'made private again');
  t.equal(readFileSync(path, 'utf8'), a + '\n');
});

t.test('a file that holds no token is refused, naming it', async (t) => {
  const path = join(t.testdir({}), 'http-token');
  writeFileSync(path, 'short\n', { mode: 0o600 });
  await t.rejects(loadToken(path), { code: 'VPSFW_ERR_HTTP', message: new RegExp(`${path}: not a vpsfw HTTP token`) });
});

t.test('where a request carries it', async (t) => {
  const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;
  const url = (q = '') => new URL(`http://x/metrics${q}`);
  t.equal(requestToken(req('Bearer abc'), url()), 'abc');
  t.equal(requestToken(req('bearer  abc '), url()), 'abc');
  t.equal(requestToken(req('Basic abc'), url('?token=zzz')), null, 'another scheme is no token, whatever the query says');
  t.equal(requestToken(req(), url('?token=zzz')), 'zzz');
  t.equal(requestToken(req(), url()), null);
});

t.test('compared whole', async (t) => {
  t.ok(sameToken('abcdef', 'abcdef'));
  t.notOk(sameToken('abcdeg', 'abcdef'));
  t.notOk(sameToken('abcde', 'abcdef'));
  t.notOk(sameToken('', 'abcdef'));
  t.notOk(sameToken(null, 'abcdef'));
});
