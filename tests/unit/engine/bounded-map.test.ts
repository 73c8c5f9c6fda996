// The map every per-source and per-flow table is built on: capped, oldest insertion evicted.
import t from 'tap';
import { BoundedMap } from '../../../agent/src/engine/bounded-map.js';

t.test('at the cap, the entry inserted longest ago goes; updates do not evict', async (t) => {
  const m = new BoundedMap<string, number>(2);
  m.set('a', 1).set('b', 2);
  m.set('a', 3);
  t.equal(m.evictions, 0, 'updating a present key evicts nothing');
  m.set('c', 4);
  t.same([...m.keys()], ['b', 'c']);
  t.equal(m.evictions, 1);
});
