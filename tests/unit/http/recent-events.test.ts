// The dashboard's events: numbered, oldest first after the number given, bounded, what was
// missed counted, stats and accept lines left out, errors kept readable.
import t from 'tap';
import { RecentEvents } from '../../../agent/src/http/recent-events.js';
import type { AgentEvent, EventFeed } from '../../../agent/src/log/tap.js';

function feed() {
  const listeners = new Set<(e: AgentEvent) => void>();
  const f: EventFeed = { subscribe: (l) => (listeners.add(l), () => listeners.delete(l)) };
  const emit = (event: string, fields: Record<string, unknown> = {}) => listeners.forEach((l) => l({ event, level: 'info', msg: event, time: '2026-01-01T00:00:00.000Z', ...fields }));
  return { f, emit, listeners };
}

t.test('after a number: the newer ones, oldest first; the next number to ask with', async (t) => {
  const { f, emit } = feed();
  const r = new RecentEvents(f, 10);
  emit('ban', { address: '192.0.2.1' });
  emit('stats');
  emit('accept');
  emit('unban', { address: '192.0.2.1' });
  const all = r.since(0);
  t.same(all.events.map((e) => [e.seq, e.event]), [[1, 'ban'], [2, 'unban']], 'stats and accept lines are not kept');
  t.equal(all.next, 2);
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
  const { f, emit, listeners } = feed();
  const r = new RecentEvents(f);
  emit('error', { err: new Error('disk full') });
  t.match(JSON.parse(JSON.stringify(r.since(0).events[0])), { err: { type: 'Error', message: 'disk full' } });
  r.close();
  t.equal(listeners.size, 0);
});
