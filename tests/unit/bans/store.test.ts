// The ban store with a fake kernel, file and clock: escalation, allowlist, expiry, capacity,
// batching of kernel writes, and restore from the state file.
import t from 'tap';
import { BanStore, KERNEL_BATCH, type BanKernel, type BanRecord, type BanSettings } from '../../../agent/src/bans/store.js';
import { allowlistMatcher } from '../../../agent/src/bans/allowlist.js';
import { parseCidr } from '../../../agent/src/policy/units.js';

const H = 3_600_000;

function fixture(over: Partial<BanSettings> = {}, saved: unknown[] = []) {
  let now = 1_000_000;
  const calls: Array<{ op: string; entries?: unknown; address?: string }> = [];
  let file: unknown[] = saved;
  const kernel: BanKernel = {
    add: async (entries) => void calls.push({ op: 'add', entries: [...entries].map((e) => `${e.address}/${e.seconds}`) }),
    del: async (address) => void calls.push({ op: 'del', address }),
  };
  const settings: BanSettings = {
    duration: H,
    escalation: { factor: 2, max: 4 * H, memory: 24 * H },
    maxEntries: 100,
    isAllowlisted: allowlistMatcher([parseCidr('127.0.0.0/8')!, parseCidr('2001:db8:ffff::/48')!]),
    ...over,
  };
  const store = new BanStore(
    {
      kernel,
      file: {
        load: async function* () {
          yield file;
        },
        save: async (records: Iterable<BanRecord>) => void (file = [...records]),
      },
      now: () => now,
      onError: (e) => {
        throw e;
      },
    },
    settings,
  );
  const has = (address: string) => store.list().some((b) => b.address === address);
  return { store, calls, has, tick: (ms: number) => (now += ms), file: () => file as BanRecord[] };
}

t.test('escalation: each repeat within memory doubles, capped at max; forgotten after memory', async (t) => {
  const f = fixture();
  const lengths: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = f.store.ban('192.0.2.2', { durationMs: null, reason: 'x', by: 'detector:synFlood' });
    if (r.kind !== 'banned') throw new Error(r.kind);
    lengths.push(r.entry.until - r.entry.since);
    f.tick(r.entry.until - r.entry.since + 1);
  }
  t.same(lengths, [H, 2 * H, 4 * H, 4 * H]);
  f.tick(25 * H);
  const r = f.store.ban('192.0.2.2', { durationMs: null, reason: 'x', by: 'd' });
  t.equal(r.kind === 'banned' && r.entry.offense, 1, 'first offense again after the memory');
});

t.test('a detector duration is escalated from its own base', async (t) => {
  const f = fixture();
  const a = f.store.ban('192.0.2.3', { durationMs: 600_000, reason: 'x', by: 'd' });
  t.equal(a.kind === 'banned' && a.entry.until - a.entry.since, 600_000);
});

t.test('the allowlist is never banned, v4 and v6', async (t) => {
  const f = fixture();
  t.equal(f.store.ban('127.0.0.1', { durationMs: null, reason: 'x', by: 'd' }).kind, 'allowlisted');
  t.equal(f.store.ban('2001:db8:ffff::1', { durationMs: null, reason: 'x', by: 'd' }).kind, 'allowlisted');
  t.equal(f.store.ban('2001:db8:fffe::1', { durationMs: null, reason: 'x', by: 'd' }).kind, 'banned');
});

t.test('an active ban is not escalated again by packets already in flight', async (t) => {
  const f = fixture();
  f.store.ban('192.0.2.4', { durationMs: null, reason: 'x', by: 'd' });
  const again = f.store.ban('192.0.2.4', { durationMs: null, reason: 'x', by: 'd' });
  t.equal(again.kind, 'already');
});

t.test('kernel writes are batched: bans made while a write is running go in one later write', async (t) => {
  const f = fixture();
  for (let i = 1; i <= 50; i++) f.store.ban(`198.51.100.${i}`, { durationMs: null, reason: 'x', by: 'd' });
  await f.store.flushed();
  const adds = f.calls.filter((c) => c.op === 'add');
  t.equal(adds.length, 2, 'the first ban goes at once, the other 49 in one batch');
  t.equal((adds[1]!.entries as string[]).length, 49);
  t.equal((adds[0]!.entries as string[])[0], '198.51.100.1/3600', 'timeout in seconds');
});

t.test('capacity: at maxEntries the ban expiring soonest makes room', async (t) => {
  const f = fixture({ maxEntries: 16 });
  f.store.ban('192.0.2.100', { durationMs: 1000, reason: 'short', by: 'd', escalate: false });
  for (let i = 1; i <= 15; i++) f.store.ban(`192.0.2.${i}`, { durationMs: null, reason: 'x', by: 'd' });
  f.store.ban('192.0.2.200', { durationMs: null, reason: 'x', by: 'd' });
  t.equal(f.store.count(), 16);
  t.notOk(f.has('192.0.2.100'), 'the soonest-expiring was evicted');
  t.ok(f.has('192.0.2.200'), 'the new one is in');
  t.ok(f.calls.some((c) => c.op === 'del' && c.address === '192.0.2.100'), 'and removed from the kernel');
});

t.test('expiry: list drops what has run out', async (t) => {
  const f = fixture();
  f.store.ban('192.0.2.5', { durationMs: 2000, reason: 'x', by: 'd', escalate: false });
  t.equal(f.store.list().length, 1);
  f.tick(2001);
  t.equal(f.store.list().length, 0);
});

t.test('save and restore: running bans and offence history come back; expired and allowlisted ones do not', async (t) => {
  const f = fixture();
  f.store.ban('192.0.2.6', { durationMs: null, reason: 'x', by: 'd' });
  f.store.ban('192.0.2.7', { durationMs: 1000, reason: 'x', by: 'd', escalate: false });
  await f.store.save();
  const saved = f.file();
  t.same(saved.map((r) => `${r.type} ${r.address}`), ['ban 192.0.2.6', 'ban 192.0.2.7'], 'an offender record only once a ban has ended');
  t.match(saved[0], { family: 4, reason: 'x', by: 'd', offense: 1, until: 1_000_000 + H });
  saved.push({ type: 'ban', address: '127.0.0.5', family: 4, since: 0, until: Number.MAX_SAFE_INTEGER, reason: 'x', by: 'd', offense: 1 });
  const g = fixture({}, saved);
  g.tick(5000);
  t.equal(await g.store.restore(), 1, 'one ban restored');
  t.ok(g.has('192.0.2.6'));
  const { type: _, ...entry } = saved[0] as BanRecord & { type: 'ban' };
  t.same(g.store.list()[0], entry, 'as it was saved');
  t.match(g.calls.find((c) => c.op === 'add'), { entries: [/^192\.0\.2\.6\/\d+$/] }, 'back in the kernel with the time left');
  const next = g.store.ban('192.0.2.7', { durationMs: null, reason: 'x', by: 'd' });
  t.equal(next.kind === 'banned' && next.entry.offense, 2, 'offence history survived');
});

t.test('records that are not bans or offenders restore nothing and break nothing', async (t) => {
  const ok = { type: 'ban', address: '192.0.2.1', family: 4, since: 0, until: Number.MAX_SAFE_INTEGER, reason: 'x', by: 'd', offense: 1 };
  const bad: unknown[] = [null, 'text', 7, { ...ok, type: 'other' }, { ...ok, address: 1 }, { ...ok, address: 'not-an-ip' }, { ...ok, until: 'later' }, { ...ok, offense: 1.5 }, { type: 'offender', address: '192.0.2.1', count: 'x', last: 0 }];
  for (const r of bad) {
    const f = fixture({}, [r]);
    t.equal(await f.store.restore(), 0, JSON.stringify(r));
  }
  t.equal(await fixture({}, [...bad, ok]).store.restore(), 1, 'the good one among them is restored');
});

t.test('bans the kernel still holds after a crash are adopted, once', async (t) => {
  const f = fixture();
  f.store.ban('192.0.2.8', { durationMs: null, reason: 'x', by: 'd' });
  const n = f.store.adopt([
    { address: '192.0.2.8', family: 4, secondsLeft: 100 },
    { address: '2001:db8::9', family: 6, secondsLeft: 60 },
    { address: '192.0.2.10', family: 4, secondsLeft: 0 },
  ]);
  t.equal(n, 1, 'only the one the store did not know, with time left');
  const e = f.store.list().find((b) => b.address === '2001:db8::9');
  t.equal(e && e.until - e.since, 60_000);
  t.equal(e?.by, 'kernel');
});

t.test('restore writes every running ban to the kernel in one go; banning, a bounded batch at a time', async (t) => {
  const n = KERNEL_BATCH + 904;
  const saved = Array.from({ length: n }, (_, i) => ({ type: 'ban', address: `10.0.${i >> 8}.${i & 255}`, family: 4, since: 0, until: Number.MAX_SAFE_INTEGER, reason: 'x', by: 'd', offense: 1 }));
  const f = fixture({ maxEntries: 100_000 }, saved);
  t.equal(await f.store.restore(), n);
  t.same(f.calls.filter((c) => c.op === 'add').map((c) => (c.entries as string[]).length), [n]);
  for (let i = 0; i < n; i++) f.store.ban(`10.1.${i >> 8}.${i & 255}`, { durationMs: null, reason: 'x', by: 'd' });
  await f.store.flushed();
  t.same(f.calls.filter((c) => c.op === 'add').slice(1).map((c) => (c.entries as string[]).length), [1, KERNEL_BATCH, n - 1 - KERNEL_BATCH], 'a flood of bans in batches');
});

t.test('an ended ban leaves an offender record: saved as such, restored, forgotten after the memory', async (t) => {
  const f = fixture();
  f.store.ban('192.0.2.20', { durationMs: null, reason: 'x', by: 'd' });
  t.equal(await f.store.unban('192.0.2.20'), true, 'it was running');
  t.equal(await f.store.unban('192.0.2.20'), false, 'not any more');
  t.equal(f.store.count(), 0);
  f.store.ban('192.0.2.21', { durationMs: 1000, reason: 'x', by: 'd', escalate: false });
  f.tick(2000);
  await f.store.save();
  t.same(f.file(), [
    { type: 'offender', address: '192.0.2.20', count: 1, last: 1_000_000 },
    { type: 'offender', address: '192.0.2.21', count: 1, last: 1_000_000 },
  ]);
  const g = fixture({}, f.file());
  await g.store.restore();
  const again = g.store.ban('192.0.2.20', { durationMs: null, reason: 'x', by: 'd' });
  t.equal(again.kind === 'banned' && again.entry.offense, 2, 'the history came back');
  g.tick(3 * H);
  await g.store.save();
  t.same(g.file().map((r) => `${r.type} ${r.address} ${'count' in r ? r.count : ''}`).sort(), ['offender 192.0.2.20 2', 'offender 192.0.2.21 1'], 'both ended, both remembered');
  g.tick(25 * H);
  await g.store.save();
  t.same(g.file(), [], 'forgotten after the memory');
});

t.test('reasons are stored once each; past 65,535 distinct ones the text is not kept, and says so', async (t) => {
  const f = fixture({ maxEntries: 100_000 });
  for (let i = 0; i < 65_536; i++) f.store.ban(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, { durationMs: null, reason: `manual ${i}`, by: 'control' });
  const list = f.store.list();
  t.equal(list.find((b) => b.address === '10.0.0.0')?.reason, 'manual 0');
  t.equal(list.find((b) => b.address === '10.0.255.253')?.reason, 'manual 65533');
  t.match(list.find((b) => b.address === '10.0.255.255')?.reason, /not kept/);
  t.equal(list.find((b) => b.address === '10.0.255.255')?.by, 'control', 'a known text still is');
});

t.test('stats: bans made by decider, active per family, lifted, expired, evicted, the last ones made', async (t) => {
  const f = fixture({ maxEntries: 16 });
  f.store.ban('192.0.2.1', { durationMs: H, reason: 'flood', by: 'detector:synFlood' });
  f.store.ban('192.0.2.1', { durationMs: H, reason: 'flood', by: 'detector:synFlood' });
  f.store.ban('2001:db8::1', { durationMs: 2 * H, reason: 'manual', by: 'control' });
  f.store.ban('192.0.2.2', { durationMs: 3 * H, reason: 'scan', by: 'detector:portScan' });
  t.match(f.store.stats(), { active: 3, activeByFamily: { ipv4: 2, ipv6: 1 }, made: { 'detector:synFlood': 1, control: 1, 'detector:portScan': 1 }, lifted: 0, expired: 0, evicted: 0 }, 'the repeat of a running ban is not a new ban');
  t.same(f.store.stats().recent.map((b) => b.address), ['192.0.2.2', '2001:db8::1', '192.0.2.1'], 'newest first');
  await f.store.unban('2001:db8::1');
  await f.store.unban('2001:db8::1');
  f.tick(H + 1);
  t.match(f.store.stats(), { active: 1, activeByFamily: { ipv4: 1, ipv6: 0 }, lifted: 1, expired: 1 }, 'one lifted (once), one ran out');
  for (let i = 0; i < 16; i++) f.store.ban(`198.51.100.${i}`, { durationMs: 5 * H, reason: 'x', by: 'control' });
  t.match(f.store.stats(), { active: 16, evicted: 1 }, 'the cap ended one early');
  t.equal(f.store.stats().recent.length, 10, 'the last ten are kept');
});
