// The state tables: keys of any width, the least recently used entry evicted at the cap, growth
// from a small start, deletion that keeps every other key findable (checked against a Map over
// many random operations), columns kept across growth, address keys both ways.
import t from 'tap';
import { addressKey, addressKeyAt, addressText, WORDS } from '../../../agent/src/tables/address-key.js';
import { ByFamily } from '../../../agent/src/tables/by-family.js';
import { SlotTable } from '../../../agent/src/tables/slot-table.js';
import { addressBytes } from '../../../agent/src/packet/address.js';

const k = (...words: number[]) => Uint32Array.from(words);

t.test('insert, find, delete; slots are reused', async (t) => {
  const s = new SlotTable(2, 10);
  t.equal(s.find(k(1, 2)), -1, 'empty');
  const a = s.insert(k(1, 2));
  const b = s.insert(k(2, 1));
  t.not(a, b);
  t.equal(s.find(k(1, 2)), a);
  t.equal(s.find(k(2, 1)), b, 'word order matters');
  t.equal(s.size, 2);
  s.delete(a);
  t.equal(s.find(k(1, 2)), -1);
  t.equal(s.find(k(2, 1)), b, 'the other key is still found');
  t.equal(s.insert(k(3, 3)), a, 'the freed slot is reused');
  t.same([...s.keyOf(b)], [2, 1]);
  t.equal(s.find(k(9, 9, 3, 3), 2), a, 'a key may sit at an offset in a longer array');
  t.equal(s.find(k(9, 9, 1, 2), 2), -1);
});

t.test('at the cap the least recently used goes; touch keeps an entry', async (t) => {
  const s = new SlotTable(1, 3);
  for (const w of [1, 2, 3]) s.insert(k(w));
  s.touch(s.find(k(1)));
  s.insert(k(4));
  t.equal(s.size, 3);
  t.equal(s.evictions, 1);
  t.equal(s.find(k(2)), -1, '2 was the least recently used');
  t.not(s.find(k(1)), -1, '1 was touched');
  t.same([...s.slots()].map((x) => s.keyOf(x)[0]), [3, 1, 4], 'least to most recently used');
});

t.test('slots are handed out from the bottom and reused first; every key is found as the index grows', async (t) => {
  const s = new SlotTable(1, 1000);
  const slots = Array.from({ length: 1000 }, (_, i) => s.insert(k(i)));
  t.same(slots, Array.from({ length: 1000 }, (_, i) => i), 'dense from 0: the pages written are the pages used');
  let found = 0;
  for (let i = 0; i < 1000; i++) if (s.find(k(i)) === i) found++;
  t.equal(found, 1000, 'each key in its slot after the index grew from 128 to 1500 slots');
  s.delete(500);
  s.delete(7);
  t.same([s.insert(k(5000)), s.insert(k(5001))], [7, 500], 'the freed slots, most recent first');
});

t.test('random inserts and deletes agree with a Map (probe runs survive deletion)', async (t) => {
  // A small key space in a table at its cap, its index two thirds full: long probe runs, many
  // wrap-arounds (the index's length, 900, is no power of two).
  const s = new SlotTable(1, 600);
  const ref = new Map<number, number>();
  let seed = 12345;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  let mismatches = 0;
  for (let i = 0; i < 50_000; i++) {
    const key = rand(2000);
    const slot = s.find(k(key));
    if ((slot >= 0) !== ref.has(key) || (slot >= 0 && ref.get(key) !== slot)) mismatches++;
    if (slot >= 0 && rand(2) === 0) {
      s.delete(slot);
      ref.delete(key);
    } else if (slot < 0 && ref.size < 600) {
      ref.set(key, s.insert(k(key)));
    }
  }
  t.equal(mismatches, 0);
  t.equal(s.size, ref.size);
  for (const [key, slot] of ref) if (s.find(k(key)) !== slot) mismatches++;
  t.equal(mismatches, 0, 'every remaining key in its slot');
});

t.test('slots() allows deleting the entry just returned', async (t) => {
  const s = new SlotTable(1, 10);
  for (let i = 0; i < 5; i++) s.insert(k(i));
  for (const x of s.slots()) if (s.keyOf(x)[0]! % 2 === 0) s.delete(x);
  t.same([...s.slots()].map((x) => s.keyOf(x)[0]), [1, 3]);
  t.equal(s.find(k(2)), -1);
});

t.test('extent and live: every live slot is below the extent, a freed one is not live, even when its key comes back elsewhere', async (t) => {
  const s = new SlotTable(1, 10);
  t.equal(s.extent, 0);
  const a = s.insert(k(1));
  const b = s.insert(k(2));
  s.insert(k(3));
  t.equal(s.extent, 3);
  s.delete(a);
  t.notOk(s.live(a), 'freed');
  t.ok(s.live(b));
  s.delete(b);
  t.equal(s.insert(k(1)), b, 'key 1 back, in the slot freed last');
  t.notOk(s.live(a), 'its old slot still is not live');
  t.ok(s.live(b));
  t.equal(s.extent, 3, 'reused slots do not move the extent');
  const live = Array.from({ length: s.extent }, (_, i) => i).filter((i) => s.live(i));
  t.same(live.sort(), [...s.slots()].sort(), 'the same slots as slots() walks');
});

t.test('bad sizes are refused, naming the value', async (t) => {
  t.throws(() => new SlotTable(0, 10), /key width.*got 0/);
  t.throws(() => new SlotTable(1, 0), /table size.*got 0/);
});

t.test('address keys: from packet bytes and from text alike, and back; the length is the family', async (t) => {
  for (const a of ['192.0.2.7', '2001:db8::7', '::ffff:192.0.2.7', '::', '255.255.255.255']) {
    const family = a.includes(':') ? 6 : 4;
    const fromBytes = new Uint32Array(WORDS[family] + 2);
    addressKeyAt(fromBytes, 2, addressBytes(a, family), 0, family);
    t.same([...fromBytes.subarray(2)], [...addressKey(a)], `${a}: same key from bytes and text`);
    t.equal(addressText(addressKey(a)), a, `${a}: back to text`);
    t.equal(addressKey(a).length, WORDS[family], 'the length is the family');
  }
  t.same([...addressKey('192.0.2.7')], [0xc0000207], 'one word for IPv4');
  t.equal(addressKey('::ffff:192.0.2.7').length, 4, 'a mapped address is IPv6: four words');
  t.equal(addressText(addressKey('2001:DB8:0:0::7')), '2001:db8::7', 'text is canonical');
  t.equal(addressKey('192.0.2.7'), addressKey('10.0.0.1'), 'one shared array per family, reused by the next call');
});

t.test('ByFamily: a key goes to the table of its width; sizes add up', async (t) => {
  const f = new ByFamily((family) => new SlotTable(WORDS[family], 10));
  f.of(addressKey('192.0.2.1')).insert(addressKey('192.0.2.1'));
  f.of(addressKey('2001:db8::1')).insert(addressKey('2001:db8::1'));
  f.of(addressKey('2001:db8::2')).insert(addressKey('2001:db8::2'));
  t.same([f.v4.size, f.v6.size, f.size], [1, 2, 3]);
  t.throws(() => new ByFamily(() => new SlotTable(2, 10)), /different widths/);
});
