// The dashboard's events, heard on the bus: numbered and stamped, oldest first after the number
// given, bounded, what was missed counted, stats and accept lines left out, errors kept readable.
import t from 'tap';
import { EventBus } from '../../../agent/src/events/bus.js';
import { RecentEvents } from '../../../agent/src/http/recent-events.js';

function feed() {
  const f = new EventBus();
  const emit = (event: string, fields: Record<string, unknown> = {}) => f.emit({ event, level: 'info', msg: event, ...fields });
  return { f, emit };
}

t.test('after a number: the newer ones, oldest first; the next number to ask with', async (t) => {
  const { f, emit } = feed();
  const r = new RecentEvents(f, 10, () => Date.UTC(2026, 0, 1));
  emit('ban', { address: '192.0.2.1' });
  emit('stats');
  emit('accept');
  emit('unban', { address: '192.0.2.1' });
  const all = r.since(0);
  t.same(all.events.map((e) => [e.seq, e.event]), [[1, 'ban'], [2, 'unban']], 'stats and accept lines are not kept');
  t.equal(all.next, 2);
  t.equal(all.events[0]?.time, '2026-01-01T00:00:00.000Z', 'stamped when heard');
  t.same(r.since(1).events.map((e) => e.event), ['unban']);
  t.same(r.since(2).events, []);
  t.same(r.since(99).events.map((e) => e.seq), [1, 2], 'a number from before an agent restart starts again');
});

t.test('bounded: the oldest go, and a reader is told how many it missed', async (t) => {
  const { f, emit } = feed();
  const r = new RecentEvents(f, 10);
  for (let i = 0; i < 45; i++) emit('ban', { n: i });
  const page = r.since(0);
  t.equal(page.events.length, 10);
  t.same(page.events.map((e) => e.seq), [36, 37, 38, 39, 40, 41, 42, 43, 44, 45]);
  t.equal(page.missed, 35);
  t.same(r.since(40, 3).events.map((e) => e.seq), [43, 44, 45], 'at most `limit`: the newest');
});

t.test('an error keeps its message; close unsubscribes', async (t) => {
  const { f, emit } = feed();
  const r = new RecentEvents(f);
  emit('error', { err: new Error('disk full') });
  t.match(JSON.parse(JSON.stringify(r.since(0).events[0])), { err: { type: 'Error', message: 'disk full' } });
  r.close();
  emit('ban');
  t.equal(r.since(0).events.length, 1, 'nothing heard after close');
});
