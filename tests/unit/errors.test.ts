// Policy issues are bounded whatever the document held: values are shortened (long text cut,
// arrays and objects cut in breadth and depth, with no walk that a deep value could overflow),
// shortening twice changes nothing (an issue crosses the isolated loader's process boundary and is
// built again), and an error lists a bounded number of issues and counts the rest.
import t from 'tap';
import { formatIssue, MAX_LISTED_ISSUES, PolicyInvalidError, shortValue } from '../../agent/src/errors.js';

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

t.test('values: short ones as they are, long ones cut, saying how long they were', async (t) => {
  for (const v of [1, -0.5, true, null, 'ssh', [1, 'a'], { a: 1, b: [2] }]) t.same(shortValue(v), v, JSON.stringify(v));
  t.equal(shortValue('x'.repeat(20 << 20)), `${'x'.repeat(60)}… (20971520 characters)`);
  t.same(shortValue([1, 2, 3, 4, 5, 6]), [1, 2, 3, '… (3 more)']);
  t.same(shortValue({ a: 1, b: 2, c: 3, d: 4, e: 5 }), { a: 1, b: 2, c: 3, '…': '2 more keys' });
  t.same(shortValue({ a: { b: { c: 1 } } }), { a: { b: '…' } });
  t.equal(shortValue(10n), '10n');
});

t.test('any depth: 100,000 levels cost two', async (t) => {
  t.same(shortValue(nested(100_000)), [['…']]);
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  t.same(shortValue(circular), { self: { self: '…' } });
});

t.test('shortening a shortened value changes nothing', async (t) => {
  for (const v of ['y'.repeat(5000), nested(50), Array.from({ length: 50 }, (_, i) => ({ ['k'.repeat(200) + i]: 'v'.repeat(300) })), { a: 1, b: 2, c: 3, d: 4, e: [1, 2, 3, 4, 5] }]) {
    const once = shortValue(v);
    t.same(shortValue(once), once);
  }
});

t.test('an invalid policy error: issues shortened, a bounded number listed, all counted', async (t) => {
  const issues = Array.from({ length: 1000 }, (_, i) => ({ path: `denyNetworks.${i}`, message: 'expected an IPv4 or IPv6 address or CIDR', value: 'z'.repeat(1 << 20) }));
  const err = new PolicyInvalidError('p.json', issues);
  t.equal(err.issues.length, MAX_LISTED_ISSUES);
  t.equal(err.total, 1000);
  t.ok(err.message.length < 10_000, `message bounded (${err.message.length} characters)`);
  t.match(err.message, new RegExp(`… and ${1000 - MAX_LISTED_ISSUES} more$`));
  t.equal(formatIssue(err.issues[0]!), `denyNetworks.0: expected an IPv4 or IPv6 address or CIDR (got "${'z'.repeat(60)}… (1048576 characters)")`);
  const again = new PolicyInvalidError(err.source, err.issues, err.total);
  t.same(again.issues, err.issues, 'built again from its own issues, the same');
  t.equal(again.message, err.message);
});
