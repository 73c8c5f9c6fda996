// The overflow watch says once when unjudged packets start, and once when they stop.
import t from 'tap';
import { OverflowWatch } from '../../../agent/src/daemon/overflow-watch.js';
import { EventBus, type AgentEvent } from '../../../agent/src/events/bus.js';

t.test('one event when it starts, one when it stops, with the count', async (t) => {
  const bus = new EventBus();
  const seen: AgentEvent[] = [];
  bus.on((e) => seen.push(e));
  let mode: 'open' | 'closed' = 'open';
  const w = new OverflowWatch(bus, () => mode);
  w.update(0, 0);
  t.same(seen, [], 'nothing while nothing is lost');
  w.update(30, 5000);
  w.update(70, 10000);
  t.equal(w.overflowing, true);
  t.match(seen, [{ event: 'overflow', level: 'warn', failMode: 'open', unjudged: 30 }]);
  t.match(seen[0]!.msg, /unjudged \(fail-open\)/);
  w.update(70, 15000);
  t.match(seen[1], { event: 'overflow-end', unjudged: 70, seconds: 10 });
  t.equal(w.overflowing, false);
  mode = 'closed';
  w.update(71, 20000);
  t.match(seen[2], { event: 'overflow', failMode: 'closed', unjudged: 1 });
  t.match(seen[2]!.msg, /dropped \(fail-closed\)/);
  t.equal(seen.length, 3);
});
