// The sources refused most: counted by address bytes, both families, most first; a source enters
// the table at one miss in ENTRY_EVERY and is counted whole from there; a table at its cap keeps
// the source refused again and again and lets one-packet sources pass through.
import t from 'tap';
import { DropSources, ENTRY_EVERY } from '../../../agent/src/daemon/drop-sources.js';
import { tcp, V4, V6 } from '../../lib/fake-packet.js';

const refuse = (d: DropSources, src: string, n: number) => {
  for (let i = 0; i < n; i++) d.count(tcp({ src }));
};

t.test('counts per source, v4 and v6, most first, at most n', async (t) => {
  const d = new DropSources();
  refuse(d, V4.client, ENTRY_EVERY + 4);
  refuse(d, V6.client, ENTRY_EVERY + 2);
  refuse(d, V4.other, ENTRY_EVERY);
  t.same(d.top(10), [
    { address: V4.client, drops: 5 },
    { address: V6.client, drops: 3 },
    { address: V4.other, drops: 1 },
  ], 'counted from the packet that entered it');
  t.same(d.top(2).map((s) => s.address), [V4.client, V6.client]);
  t.same(d.top(0), []);
});

t.test('a flood of new sources mostly stays out; the steady source stays in, at the cap too', async (t) => {
  const d = new DropSources(16);
  refuse(d, V4.client, ENTRY_EVERY);
  for (let i = 0; i < 2000; i++) {
    d.count(tcp({ src: V4.client }));
    d.count(tcp({ src: `203.0.${i >> 8}.${i & 255}` }));
  }
  const top = d.top(20);
  t.same(top[0], { address: V4.client, drops: 2001 }, 'the steady source, counted whole once in');
  t.equal(top.length, 16, 'the table at its cap');
  t.ok(top.slice(1).every((s) => s.drops === 1), 'the rest are one-packet sources that made it in');
});
