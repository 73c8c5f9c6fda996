// Event-loop delay: a blocked loop shows in the reading; readings cover whole windows, so readers
// do not reset each other's; before the first window, the time since start.
import t from 'tap';
import { EventLoopMonitor, WINDOW_MS } from '../../../agent/src/daemon/event-loop.js';

const block = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end);
};
const turn = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a 200 ms block shows as a delay of at least 150 ms, for every reader of that window', async (t) => {
  let now = 0;
  const m = new EventLoopMonitor(() => now);
  t.teardown(() => m.stop());
  await turn(60);
  block(200);
  await turn(60);
  now = WINDOW_MS;
  const first = m.read();
  t.ok(first.max >= 150, `max ${first.max} ms`);
  t.ok(first.p50 < first.max, 'most wake-ups were on time');
  t.equal(first.windowSeconds, WINDOW_MS / 1000);
  now += 1000;
  t.same(m.read(), first, 'a second reader within the next window sees the same one');
  await turn(100);
  now += WINDOW_MS;
  t.ok(m.read().max < first.max, 'the next window has no block');
});

t.test('before a window has passed: what there is so far', async (t) => {
  let now = 0;
  const m = new EventLoopMonitor(() => now);
  t.teardown(() => m.stop());
  t.same(m.read(), { p50: 0, p99: 0, max: 0, windowSeconds: 0 }, 'no wake-up yet: no delay, not a sentinel');
  await turn(100);
  now = 2000;
  t.equal(m.read().windowSeconds, 2);
});
