// Counting: one per failed attempt, within findTime, bans at maxRetry, a success forgives.
import t from 'tap';
import { FailureCounter } from '../../../agent/src/logsources/counter.js';
import { parseSshdMessage } from '../../../agent/src/logsources/sshd.js';

const ev = (line: string) => parseSshdMessage(line)!;
const failed = (ip: string, port: number) => ev(`Failed password for tuser from ${ip} port ${port} ssh2`);
const closed = (ip: string, port: number) => ev(`Connection closed by authenticating user tuser ${ip} port ${port} [preauth]`);

t.test('maxRetry failures within findTime ban; the lines of one attempt count once', async (t) => {
  const c = new FailureCounter({ maxRetry: 3, findTimeMs: 60_000 });
  t.match(c.record(failed('192.0.2.2', 1), 0), { kind: 'counted', failures: 1 });
  t.match(c.record(closed('192.0.2.2', 1), 1), { kind: 'ignored' }, 'the close of a session that failed already');
  t.match(c.record(failed('192.0.2.2', 2), 2), { kind: 'counted', failures: 2 });
  t.match(c.record(closed('192.0.2.2', 2), 3), { kind: 'ignored' });
  t.match(c.record(failed('192.0.2.2', 3), 4), { kind: 'ban', failures: 3 });
  t.match(c.record(failed('192.0.2.2', 4), 5), { kind: 'counted', failures: 1 }, 'the count starts over after a ban');
});

t.test('invalid user: "Invalid user" and its "Failed password" are one attempt; a second password is another', async (t) => {
  const c = new FailureCounter({ maxRetry: 10, findTimeMs: 60_000 });
  t.match(c.record(ev('Invalid user bob from 192.0.2.2 port 7'), 0), { kind: 'counted', failures: 1 });
  t.match(c.record(ev('Failed password for invalid user bob from 192.0.2.2 port 7 ssh2'), 0), { kind: 'ignored' });
  t.match(c.record(ev('Failed password for invalid user bob from 192.0.2.2 port 7 ssh2'), 0), { kind: 'counted', failures: 2 });
  t.match(c.record(ev('Connection closed by invalid user bob 192.0.2.2 port 7 [preauth]'), 0), { kind: 'ignored' });
});

t.test('a session that only closes (no password tried) counts once', async (t) => {
  const c = new FailureCounter({ maxRetry: 10, findTimeMs: 60_000 });
  t.match(c.record(ev('maximum authentication attempts exceeded for tuser from 2001:db8::2 port 9 ssh2 [preauth]'), 0), { kind: 'counted', failures: 1 });
  t.match(c.record(ev('Disconnecting authenticating user tuser 2001:db8::2 port 9: Too many authentication failures [preauth]'), 0), { kind: 'ignored' });
});

t.test('failures older than findTime no longer count', async (t) => {
  const c = new FailureCounter({ maxRetry: 3, findTimeMs: 1000 });
  c.record(failed('192.0.2.2', 1), 0);
  c.record(failed('192.0.2.2', 2), 500);
  t.match(c.record(failed('192.0.2.2', 3), 1200), { kind: 'counted', failures: 2 }, 'the first fell out of the window');
  t.match(c.record(failed('192.0.2.2', 4), 1300), { kind: 'ban', failures: 3 });
});

t.test('a successful login forgives its source, and never counts', async (t) => {
  const c = new FailureCounter({ maxRetry: 3, findTimeMs: 60_000 });
  c.record(failed('192.0.2.2', 1), 0);
  c.record(failed('192.0.2.2', 2), 1);
  t.match(c.record(ev('Accepted password for tuser from 192.0.2.2 port 3 ssh2'), 2), { kind: 'forgiven', failures: 2 });
  t.match(c.record(failed('192.0.2.2', 4), 3), { kind: 'counted', failures: 1 });
  t.match(c.record(failed('192.0.2.9', 4), 3), { kind: 'counted', failures: 1 }, 'sources are counted apart');
});

t.test('bounded: at the cap the least recently seen source is forgotten', async (t) => {
  const c = new FailureCounter({ maxRetry: 5, findTimeMs: 60_000, cap: 100 });
  for (let i = 0; i < 1000; i++) c.record(failed(`10.0.${i >> 8}.${i & 255}`, i + 1), i);
  t.equal(c.sources, 100);
  c.sweep(10_000_000);
  t.equal(c.sources, 0, 'a sweep past findTime forgets all');
});
