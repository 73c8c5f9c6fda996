// The sources refused most: counted by address bytes, both families, most first; a table at its
// cap keeps the source refused again and again and lets one-packet sources pass through.
import t from 'tap';
import { DropSources } from '../../../agent/src/daemon/drop-sources.js';
import { tcp, V4, V6 } from '../../lib/fake-packet.js';

t.test('counts per source, v4 and v6, most first, at most n', async (t) => {
  const d = new DropSources();
  for (let i = 0; i < 5; i++) d.count(tcp({ src: V4.client }));
  for (let i = 0; i < 3; i++) d.count(tcp({ src: V6.client }));
  d.count(tcp({ src: V4.other }));
  t.same(d.top(10), [
    { address: V4.client, drops: 5 },
    { address: V6.client, drops: 3 },
    { address: V4.other, drops: 1 },
  ]);
  t.same(d.top(2).map((s) => s.address), [V4.client, V6.client]);
  t.same(d.top(0), []);
});

t.test('at the cap, the least recently refused source makes room', async (t) => {
  const d = new DropSources(16);
  for (let i = 0; i < 200; i++) {
    d.count(tcp({ src: V4.client }));
    d.count(tcp({ src: `203.0.113.${i}` }));
  }
  const top = d.top(3);
  t.same(top[0], { address: V4.client, drops: 200 }, 'the steady source stays, counted whole');
  t.equal(top[1]!.drops, 1, 'the rest are one-packet sources');
});
