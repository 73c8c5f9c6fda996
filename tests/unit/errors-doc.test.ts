// Every error code and every exit code the CLI uses is documented in docs/errors.md.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { exitCodeOf, type ErrorCode } from '../../agent/src/errors.js';

const source = readFileSync(new URL('../../agent/src/errors.ts', import.meta.url), 'utf8');
const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const codes = [...source.matchAll(/\| '(VPSFW_ERR_\w+)'/g)].map((m) => m[1] as ErrorCode);

t.test('each code has a row in docs/errors.md, each exit code too', async (t) => {
  t.ok(codes.length >= 10, `${codes.length} codes found in errors.ts`);
  for (const code of codes) t.match(doc, new RegExp(`^\\| \`${code}\` \\|`, 'm'), code);
  for (const exit of new Set([0, ...codes.map(exitCodeOf)])) t.match(doc, new RegExp(`^\\| ${exit} \\|`, 'm'), `exit ${exit}`);
  t.equal(exitCodeOf('VPSFW_ERR_USAGE'), 2);
  t.equal(exitCodeOf('VPSFW_ERR_NOT_RUNNING'), 3);
  t.equal(exitCodeOf('VPSFW_ERR_POLICY_INVALID'), 1);
});
