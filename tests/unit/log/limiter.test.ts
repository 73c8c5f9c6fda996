// Per-packet log lines per second: the rest suppressed, reported with the next line through, and
// counted since start for the status and the metrics.
import t from 'tap';
import { LogLimiter } from '../../../agent/src/log/limiter.js';

t.test('suppressed lines: reported once by the next line, counted for good', async (t) => {
  const l = new LogLimiter(2);
  t.equal(l.take(0), 0);
  t.equal(l.take(10), 0);
  t.equal(l.take(20), -1);
  t.equal(l.take(30), -1);
  t.equal(l.suppressed, 2);
  t.equal(l.take(1000), 2, 'the next second\'s first line reports them');
  t.equal(l.suppressed, 0);
  t.equal(l.suppressedTotal, 2, 'the total stays');
  l.take(1001);
  l.take(1002);
  t.equal(l.suppressedTotal, 3);
});
