// The ban store with a fake kernel, file and clock: the ban request (origin, scenario), escalation,
// the allowlist, the targets never banned, range bans, expiry, capacity, batching of kernel writes,
// rewriting a ban the kernel lost, restore and the reconcile with the kernel both ways, and when
// the state file is written.
import t from 'tap';
import { BanStore, KERNEL_BATCH, REWRITE_MS, type BanKernel, type BanRecord, type BanRequest, type BanSettings, type KernelBan } from '../../../agent/src/bans/store.js';
import { parseCidr } from '../../../agent/src/policy/units.js';

const H = 3_600_000;

interface Fixture {
  saved?: unknown[];
  /** What the kernel's ban sets hold at start. */
  kernel?: KernelBan[];
  /** What the fake kernel refuses, by target. */
  refuse?: (target: string) => string | null;
  /** Bad lines the fake file reports while loading, and an error it throws after its records. */
  badLines?: Array<[string, string]>;
  loadFails?: Error;
}

function fixture(over: Partial<BanSettings> = {}, opts: Fixture = {}) {
  let now = 1_000_000;
  const calls: Array<{ op: string; entries?: string[]; target?: string; batch?: number }> = [];
  let batches = 0;
  const errors: Error[] = [];
  let file: unknown[] = opts.saved ?? [];
  let saves = 0;
  const kernel: BanKernel = {
    add: async (entries) => {
      const list = [...entries()];
      // A run of additions is one call; a lift (timeout 0) is a `del` of its own, in its place.
      for (const e of list) {
        if (e.seconds === 0) calls.push({ op: 'del', target: e.target });
        else if (calls.at(-1)?.op === 'add' && calls.at(-1)!.batch === batches) calls.at(-1)!.entries!.push(`${e.target}/${e.seconds}`);
        else calls.push({ op: 'add', entries: [`${e.target}/${e.seconds}`], batch: batches });
      }
      batches++;
      return list.flatMap((e) => {
        const why = opts.refuse?.(e.target);
        return why ? [new Error(`refused ${e.target}: ${why}`)] : [];
      });
    },
    del: async (target) => void calls.push({ op: 'del', target }),
    list: async () => opts.kernel ?? [],
  };
  const settings: BanSettings = {
    duration: H,
    escalation: { factor: 2, max: 4 * H, memory: 24 * H },
    maxEntries: 100,
    allowlist: [parseCidr('127.0.0.0/8')!, parseCidr('2001:db8:ffff::/48')!],
    ...over,
  };
  const store = new BanStore(
    {
      kernel,
      file: {
        path: '/state/bans.json',
        load: async function* (bad) {
          for (const [where, why] of opts.badLines ?? []) bad(where, why);
          yield file as BanRecord[];
          if (opts.loadFails) throw opts.loadFails;
        },
        save: async (records: Iterable<BanRecord>) => {
          saves++;
          file = [...records];
        },
      },
      now: () => now,
      onError: (e) => void errors.push(e as Error),
    },
    settings,
  );
  const has = (address: string) => store.list().some((b) => b.address === address);
  const ban = (target: string, more: Partial<BanRequest> = {}) => store.ban({ target, durationMs: null, reason: 'x', by: 'd', origin: 'agent', ...more });
  const added = () => calls.filter((c) => c.op === 'add').flatMap((c) => c.entries!);
  return { store, ban, calls, added, errors, has, tick: (ms: number) => (now += ms), file: () => file as BanRecord[], saves: () => saves, writes: () => batches };
}

t.test('escalation: each repeat within memory doubles, capped at max; forgotten after memory', async (t) => {
  const f = fixture();
  const lengths: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = f.ban('192.0.2.2', { by: 'detector:synFlood' });
    if (r.kind !== 'banned') throw new Error(r.kind);
    lengths.push(r.entry.until - r.entry.since);
    f.tick(r.entry.until - r.entry.since + 1);
  }
  t.same(lengths, [H, 2 * H, 4 * H, 4 * H]);
  f.tick(25 * H);
  const r = f.ban('192.0.2.2');
  t.equal(r.kind === 'banned' && r.entry.offense, 1, 'first offense again after the memory');
});

t.test('preview: what a ban would be (refusals and escalation included), with nothing recorded or written', async (t) => {
  const f = fixture();
  const first = f.ban('192.0.2.2');
  f.tick((first.kind === 'banned' ? first.entry.until - first.entry.since : 0) + 1);
  const calls = f.calls.length;
  const p = f.store.preview({ target: '192.0.2.2', durationMs: null, reason: 'x', by: 'detector:synFlood', origin: 'agent' });
  t.match(p, { kind: 'banned', entry: { address: '192.0.2.2', offense: 2, by: 'detector:synFlood' } }, 'escalated as a ban would be');
  t.equal(p.kind === 'banned' && p.entry.until - p.entry.since, 2 * H);
  t.match(f.store.preview({ target: '192.0.2.77', durationMs: null, reason: 'x', by: 'd', origin: 'agent' }), { kind: 'banned', entry: { offense: 1 } });
  t.equal(f.calls.length, calls, 'no kernel write');
  t.notOk(f.has('192.0.2.77'), 'not recorded');
  t.equal(f.store.count(), 0);
  t.match(f.store.preview({ target: '::', durationMs: null, reason: 'x', by: 'd', origin: 'agent' }), { kind: 'refused' });
  t.match(f.store.preview({ target: '127.0.0.1', durationMs: null, reason: 'x', by: 'd', origin: 'agent' }), { kind: 'allowlisted' });
});

t.test('a detector duration is escalated from its own base', async (t) => {
  const f = fixture();
  const a = f.ban('192.0.2.3', { durationMs: 600_000 });
  t.equal(a.kind === 'banned' && a.entry.until - a.entry.since, 600_000);
});

t.test('the request: origin and scenario are kept in the entry; the target is canonical', async (t) => {
  const f = fixture();
  const r = f.store.ban({ target: '2001:DB8:0:0::7', durationMs: null, reason: 'ssh brute force', by: 'crowdsec', origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf' });
  t.match(r, { kind: 'banned', entry: { address: '2001:db8::7', family: 6, by: 'crowdsec', origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', reason: 'ssh brute force' } });
  const plain = f.ban('192.0.2.30');
  t.equal(plain.kind === 'banned' && plain.entry.origin, 'agent');
  t.notOk(plain.kind === 'banned' && 'scenario' in plain.entry, 'no scenario unless one was given');
});

t.test('the allowlist is never banned, v4 and v6', async (t) => {
  const f = fixture();
  t.equal(f.ban('127.0.0.1').kind, 'allowlisted');
  t.equal(f.ban('2001:db8:ffff::1').kind, 'allowlisted');
  t.equal(f.ban('2001:db8:fffe::1').kind, 'banned');
});

t.test('never banned, whoever asks: unspecified, broadcast, multicast, and networks holding them', async (t) => {
  const f = fixture();
  const never: Array<[string, RegExp]> = [
    ['0.0.0.0', /^0\.0\.0\.0 is the unspecified address/],
    ['::', /^:: is the unspecified address/],
    ['0:0::0', /^:: is the unspecified address/],
    ['255.255.255.255', /^255\.255\.255\.255 is the broadcast address/],
    ['224.0.0.1', /^224\.0\.0\.1 is a multicast address \(224\.0\.0\.0\/4\)/],
    ['239.255.255.250', /multicast/],
    ['ff02::1', /^ff02::1 is a multicast address \(ff00::\/8\)/],
    ['0.0.0.0/8', /^0\.0\.0\.0\/8 contains the unspecified address 0\.0\.0\.0/],
    ['224.0.0.0/3', /^224\.0\.0\.0\/3 contains the broadcast address/],
    ['255.255.255.0/24', /contains the broadcast address/],
    ['224.1.0.0/16', /^224\.1\.0\.0\/16 is a multicast address/],
    ['::/0', /^::\/0 contains the unspecified address ::/],
    ['fe00::/7', /contains multicast addresses \(ff00::\/8\)/],
    ['not-an-address', /^"not-an-address" is not an IPv4 or IPv6 address or network/],
  ];
  for (const origin of ['agent', 'control', 'crowdsec', 'log'] as const) {
    for (const [target, reason] of never) {
      const r = f.ban(target, { origin });
      t.equal(r.kind, 'refused', `${target} (${origin})`);
      t.match(r.kind === 'refused' && r.reason, reason);
    }
  }
  for (const ok of ['0.0.0.1', '223.255.255.255', '255.255.255.254', '240.0.0.1', 'fe80::1', '2001:db8:1::/48', '1.0.0.0/8']) t.equal(f.ban(ok).kind, 'banned', ok);
  await f.store.flushed();
  t.same(f.added().filter((e) => /^(0\.0\.0\.0|::|255\.255\.255\.255|22[4-9]|23|ff)/.test(e)), [], 'none of them reached the kernel');
  t.equal(f.store.count(), 7);
});

t.test('range bans: normalized, written to the range set, listed, saved, restored, unbanned, expired', async (t) => {
  const f = fixture();
  const r = f.ban('198.51.100.77/24', { origin: 'crowdsec', by: 'crowdsec', scenario: 'crowdsecurity/http-probing', durationMs: 2 * H, escalate: false });
  t.match(r, { kind: 'banned', entry: { address: '198.51.100.0/24', family: 4, origin: 'crowdsec' } });
  t.equal(f.ban('198.51.100.0/24').kind, 'already', 'the same network, however written');
  t.equal(f.ban('198.51.100.5').kind, 'banned', 'an address inside it is a ban of its own');
  t.match(f.ban('2001:db8:1::/48'), { kind: 'banned', entry: { address: '2001:db8:1::/48', family: 6 } });
  t.match(f.ban('192.0.2.9/32'), { kind: 'banned', entry: { address: '192.0.2.9' } }, 'a /32 is an address');
  await f.store.flushed();
  t.same(f.added(), ['198.51.100.0/24/7200', '198.51.100.5/3600', '2001:db8:1::/48/3600', '192.0.2.9/3600']);
  t.same(f.store.list().map((b) => b.address).sort(), ['192.0.2.9', '198.51.100.0/24', '198.51.100.5', '2001:db8:1::/48']);

  await f.store.save();
  t.match(f.file().find((r) => r.address === '198.51.100.0/24'), { type: 'ban', family: 4, origin: 'crowdsec', scenario: 'crowdsecurity/http-probing', until: 1_000_000 + 2 * H });
  const g = fixture({}, { saved: f.file() });
  t.equal(await g.store.restore(), 4);
  t.same(g.store.list(), f.store.list(), 'restored as they were');
  t.ok(g.added().includes('198.51.100.0/24/7200'), 'back in the kernel');

  t.equal(await g.store.unban('198.51.100.0/24'), true);
  t.match(g.calls.at(-1), { op: 'del', target: '198.51.100.0/24' });
  t.notOk(g.has('198.51.100.0/24'));
  g.tick(H + 1);
  t.same(g.store.list().map((b) => b.address), [], 'the others expired');
  const again = g.ban('198.51.100.0/24');
  t.equal(again.kind === 'banned' && again.entry.offense, 2, 'a network escalates like an address');
});

t.test('a network and the allowlist: inside it is allowlisted; holding part of it is refused, naming it', async (t) => {
  const f = fixture();
  t.equal(f.ban('127.1.0.0/16').kind, 'allowlisted');
  const r = f.ban('2001:db8:ff00::/40');
  t.equal(r.kind, 'refused');
  t.match(r.kind === 'refused' && r.reason, '2001:db8:ff00::/40 holds the allowlisted network 2001:db8:ffff::/48 (bans.allowlist): not banned');
  t.equal(f.ban('0.0.0.0/1').kind, 'refused', 'holds 0.0.0.0 (and 127.0.0.0/8)');
  t.equal(f.ban('2001:db8:fe00::/40').kind, 'banned', 'a neighbour is fine');
});

t.test('an active ban is not escalated again by packets already in flight', async (t) => {
  const f = fixture();
  f.ban('192.0.2.4');
  const again = f.ban('192.0.2.4');
  t.equal(again.kind, 'already');
});

t.test('a running ban asked for again is written to the kernel again, at most once a second', async (t) => {
  // The packet path sees a banned source only if the kernel lost the entry: the store heals it.
  const f = fixture();
  f.ban('192.0.2.40');
  await f.store.flushed();
  t.same(f.added(), ['192.0.2.40/3600']);
  f.ban('192.0.2.40');
  await f.store.flushed();
  t.equal(f.added().length, 1, 'not within the second of the ban');
  f.tick(REWRITE_MS);
  t.equal(f.ban('192.0.2.40').kind, 'already');
  f.ban('192.0.2.40');
  f.ban('192.0.2.40');
  await f.store.flushed();
  t.same(f.added(), ['192.0.2.40/3600', '192.0.2.40/3599'], 'once more, with the time left');
});

t.test('kernel writes are batched: bans made while a write is running go in one later write', async (t) => {
  const f = fixture();
  for (let i = 1; i <= 50; i++) f.ban(`198.51.100.${i}`);
  await f.store.flushed();
  const adds = f.calls.filter((c) => c.op === 'add');
  t.equal(adds.length, 2, 'the first ban goes at once, the other 49 in one batch');
  t.equal(adds[1]!.entries!.length, 49);
  t.equal(adds[0]!.entries![0], '198.51.100.1/3600', 'timeout in seconds');
});

t.test('entries the kernel refuses are reported through onError; the store goes on', async (t) => {
  const f = fixture({}, { refuse: (target) => (target === '192.0.2.66' ? 'kernel says no' : null) });
  f.ban('192.0.2.65');
  f.ban('192.0.2.66');
  f.ban('192.0.2.67');
  await f.store.flushed();
  t.match(f.errors, [{ message: 'refused 192.0.2.66: kernel says no' }]);
  t.equal(f.store.count(), 3);
});

t.test('capacity: at maxEntries the ban expiring soonest makes room', async (t) => {
  const f = fixture({ maxEntries: 16 });
  f.ban('192.0.2.100', { durationMs: 1000, reason: 'short', escalate: false });
  for (let i = 1; i <= 15; i++) f.ban(`192.0.2.${i}`);
  f.ban('192.0.2.200');
  t.equal(f.store.count(), 16);
  t.notOk(f.has('192.0.2.100'), 'the soonest-expiring was evicted');
  t.ok(f.has('192.0.2.200'), 'the new one is in');
  t.ok(f.calls.some((c) => c.op === 'del' && c.target === '192.0.2.100'), 'and removed from the kernel');
});

t.test('expiry: list drops what has run out', async (t) => {
  const f = fixture();
  f.ban('192.0.2.5', { durationMs: 2000, escalate: false });
  t.equal(f.store.list().length, 1);
  f.tick(2001);
  t.equal(f.store.list().length, 0);
});

t.test('save and restore: running bans and offence history come back; expired and allowlisted ones do not', async (t) => {
  const f = fixture();
  f.ban('192.0.2.6');
  f.ban('192.0.2.7', { durationMs: 1000, escalate: false });
  await f.store.save();
  const saved = f.file();
  t.same(saved.map((r) => `${r.type} ${r.address}`), ['ban 192.0.2.6', 'ban 192.0.2.7'], 'an offender record only once a ban has ended');
  t.match(saved[0], { family: 4, reason: 'x', by: 'd', origin: 'agent', offense: 1, until: 1_000_000 + H });
  saved.push({ type: 'ban', address: '127.0.0.5', family: 4, since: 0, until: Number.MAX_SAFE_INTEGER, reason: 'x', by: 'd', origin: 'agent', offense: 1 });
  const g = fixture({}, { saved });
  g.tick(5000);
  t.equal(await g.store.restore(), 1, 'one ban restored');
  t.ok(g.has('192.0.2.6'));
  const { type: _, ...entry } = saved[0] as BanRecord & { type: 'ban' };
  t.same(g.store.list()[0], entry, 'as it was saved');
  t.match(g.calls.find((c) => c.op === 'add'), { entries: [/^192\.0\.2\.6\/\d+$/] }, 'back in the kernel with the time left');
  t.same(g.errors, [], 'an allowlisted ban is left out quietly: the policy changed');
  const next = g.ban('192.0.2.7');
  t.equal(next.kind === 'banned' && next.entry.offense, 2, 'offence history survived');
});

t.test('restore: a ban of an address never banned (left by an older release) is reported, not restored', async (t) => {
  const ban = (address: string) => ({ type: 'ban', address, family: address.includes(':') ? 6 : 4, since: 0, until: Number.MAX_SAFE_INTEGER, reason: 'x', by: 'd', origin: 'agent', offense: 1 }) as BanRecord;
  const f = fixture({}, { saved: [ban('192.0.2.1'), ban('0.0.0.0'), ban('192.0.2.2'), ban('::'), ban('192.0.2.3')] });
  t.equal(await f.store.restore(), 3);
  t.same(f.added(), ['192.0.2.1/2147483', '192.0.2.2/2147483', '192.0.2.3/2147483'], 'the others, all in one write (timeouts clamped to what ipset takes)');
  t.match(f.errors, [{ code: 'VPSFW_ERR_BAN_STATE', message: /bans\.json: the ban of 0\.0\.0\.0 is not restored: 0\.0\.0\.0 is the unspecified address/ }, { message: /the ban of :: is not restored/ }]);
});

t.test('restore: bad lines are reported (where, why), a few one by one and the rest counted; the good records are restored and in the kernel', async (t) => {
  const ok = { type: 'ban', address: '192.0.2.1', family: 4, since: 0, until: Number.MAX_SAFE_INTEGER, reason: 'x', by: 'd', origin: 'agent', offense: 1 } as BanRecord;
  const badLines = Array.from({ length: 14 }, (_, i) => [`line ${i + 2}`, 'not valid JSON (Unexpected end of JSON input)'] as [string, string]);
  const f = fixture({}, { saved: [ok], badLines });
  t.equal(await f.store.restore(), 1);
  t.same(f.added(), ['192.0.2.1/2147483']);
  t.equal(f.errors.length, 11, 'ten reported, then a count');
  t.match(f.errors[0], { code: 'VPSFW_ERR_BAN_STATE', message: '/state/bans.json line 2: not valid JSON (Unexpected end of JSON input); not restored, the other records are' });
  t.match(f.errors[10], { message: '/state/bans.json: 4 more records not restored, not listed' });
});

t.test('restore: a file that fails partway keeps what was read, and the kernel gets it all the same', async (t) => {
  const ok = { type: 'ban', address: '192.0.2.1', family: 4, since: 0, until: Number.MAX_SAFE_INTEGER, reason: 'x', by: 'd', origin: 'agent', offense: 1 } as BanRecord;
  const f = fixture({}, { saved: [ok], loadFails: new Error('EIO: i/o error, read'), kernel: [{ target: '192.0.2.2', family: 4, secondsLeft: 60 }] });
  t.equal(await f.store.restore(), 2, 'the ban read and the one the kernel held');
  t.same(f.added(), ['192.0.2.1/2147483', '192.0.2.2/60']);
  t.match(f.errors, [{ code: 'VPSFW_ERR_BAN_STATE', message: /bans\.json: unreadable \(EIO: i\/o error, read\)/ }]);
});

t.test('reconcile at start: kept bans the kernel lacks are written again, bans only the kernel holds adopted', async (t) => {
  const rec = (address: string, until: number) => ({ type: 'ban', address, family: address.includes(':') ? 6 : 4, since: 0, until, reason: 'saved', by: 'd', origin: 'agent', offense: 1 }) as BanRecord;
  const f = fixture(
    {},
    {
      saved: [rec('192.0.2.8', 1_000_000 + H), rec('192.0.2.11', 1_000_000 + 60_000)],
      kernel: [
        { target: '192.0.2.8', family: 4, secondsLeft: 100 },
        { target: '192.0.2.11', family: 4, secondsLeft: 600 },
        { target: '2001:db8::9', family: 6, secondsLeft: 60 },
        { target: '203.0.113.0/24', family: 4, secondsLeft: 90 },
        { target: '192.0.2.10', family: 4, secondsLeft: 0 },
        { target: '127.0.0.9', family: 4, secondsLeft: 50 },
      ],
    },
  );
  t.equal(await f.store.restore(), 4);
  const list = f.store.list();
  t.match(list.find((b) => b.address === '2001:db8::9'), { by: 'kernel', origin: 'kernel', until: 1_000_000 + 60_000 }, 'adopted with the time the kernel had left');
  t.match(list.find((b) => b.address === '203.0.113.0/24'), { origin: 'kernel' }, 'a range too');
  t.match(list.find((b) => b.address === '192.0.2.8'), { reason: 'saved', until: 1_000_000 + H }, 'the store knows more than a shorter kernel entry');
  t.match(list.find((b) => b.address === '192.0.2.11'), { reason: 'saved', until: 1_000_000 + 600_000 }, 'a later kernel expiry wins');
  t.same(f.added().sort(), ['192.0.2.11/600', '192.0.2.8/3600', '2001:db8::9/60', '203.0.113.0/24/90'], 'every running ban written, the kernel-held ones with the store time');
  t.same(f.calls.filter((c) => c.op === 'del').map((c) => c.target), ['127.0.0.9'], 'an allowlisted entry is taken out of the kernel');
});

t.test('restore writes every running ban to the kernel in one go; banning, a bounded batch at a time', async (t) => {
  const n = KERNEL_BATCH + 904;
  const saved = Array.from({ length: n }, (_, i) => ({ type: 'ban', address: `10.0.${i >> 8}.${i & 255}`, family: 4, since: 0, until: Number.MAX_SAFE_INTEGER, reason: 'x', by: 'd', origin: 'agent', offense: 1 }));
  const f = fixture({ maxEntries: 100_000 }, { saved });
  t.equal(await f.store.restore(), n);
  t.same(f.calls.filter((c) => c.op === 'add').map((c) => c.entries!.length), [n]);
  for (let i = 0; i < n; i++) f.ban(`10.1.${i >> 8}.${i & 255}`);
  await f.store.flushed();
  t.same(f.calls.filter((c) => c.op === 'add').slice(1).map((c) => c.entries!.length), [1, KERNEL_BATCH, n - 1 - KERNEL_BATCH], 'a flood of bans in batches');
});

t.test('the restore write gives the same entries each time it is asked (the kernel side goes on past a refused line)', async (t) => {
  const saved = Array.from({ length: 5 }, (_, i) => ({ type: 'ban', address: `10.0.0.${i + 1}`, family: 4, since: 0, until: Number.MAX_SAFE_INTEGER, reason: 'x', by: 'd', origin: 'agent', offense: 1 }));
  let asked: string[][] = [];
  const store: BanStore = new BanStore(
    {
      kernel: {
        add: async (entries) => {
          if (asked.length > 0) return []; // the write of the ban made below
          asked = [[...entries()].map((e) => e.target)];
          store.ban({ target: '10.9.9.9', durationMs: null, reason: 'x', by: 'd', origin: 'agent' }); // the store changes while the kernel is written
          asked.push([...entries()].map((e) => e.target));
          return [];
        },
        del: async () => undefined,
        list: async () => [],
      },
      file: { path: 'p', load: async function* () { yield saved as BanRecord[]; }, save: async () => undefined },
      now: () => 1_000_000,
      onError: (e) => t.fail(String(e)),
    },
    { duration: H, escalation: { factor: 2, max: 4 * H, memory: 24 * H }, maxEntries: 100, allowlist: [] },
  );
  await store.restore();
  t.equal(asked[0]!.length, 5);
  t.same(asked[1], asked[0]);
});

t.test('an ended ban leaves an offender record: saved as such, restored, forgotten after the memory', async (t) => {
  const f = fixture();
  f.ban('192.0.2.20');
  t.equal(await f.store.unban('192.0.2.20'), true, 'it was running');
  t.equal(await f.store.unban('192.0.2.20'), false, 'not any more');
  t.equal(f.store.count(), 0);
  f.ban('192.0.2.21', { durationMs: 1000, escalate: false });
  f.tick(2000);
  await f.store.save();
  t.same(f.file(), [
    { type: 'offender', address: '192.0.2.20', count: 1, last: 1_000_000 },
    { type: 'offender', address: '192.0.2.21', count: 1, last: 1_000_000 },
  ]);
  const g = fixture({}, { saved: f.file() });
  await g.store.restore();
  const again = g.ban('192.0.2.20');
  t.equal(again.kind === 'banned' && again.entry.offense, 2, 'the history came back');
  g.tick(3 * H);
  await g.store.save();
  t.same(g.file().map((r) => `${r.type} ${r.address} ${'count' in r ? r.count : ''}`).sort(), ['offender 192.0.2.20 2', 'offender 192.0.2.21 1'], 'both ended, both remembered');
  g.tick(25 * H);
  await g.store.save();
  t.same(g.file(), [], 'forgotten after the memory');
});

t.test('unban waits for a kernel write on its way, so the entry cannot come back after the delete', async (t) => {
  const f = fixture();
  f.ban('192.0.2.50');
  f.ban('192.0.2.51'); // queued behind the first write
  await f.store.unban('192.0.2.51');
  t.same(
    f.calls.map((c) => c.op + ' ' + (c.target ?? c.entries!.join(','))),
    ['add 192.0.2.50/3600', 'add 192.0.2.51/3600', 'del 192.0.2.51'],
  );
});

t.test('a new allowlist ends the running bans it covers, in the kernel too', async (t) => {
  const f = fixture();
  f.ban('192.0.2.60');
  f.ban('192.0.2.61');
  f.ban('203.0.113.0/24');
  f.store.updateSettings({ duration: H, escalation: { factor: 2, max: 4 * H, memory: 24 * H }, maxEntries: 100, allowlist: [parseCidr('192.0.2.60')!, parseCidr('203.0.113.128/25')!] });
  t.same(f.store.list().map((b) => b.address), ['192.0.2.61']);
  t.same(f.calls.filter((c) => c.op === 'del').map((c) => c.target).sort(), ['192.0.2.60', '203.0.113.0/24']);
});

t.test('when the file is written: a manual ban or unban at once, other bans coalesced, one write at a time', async (t) => {
  const f = fixture();
  f.ban('192.0.2.70');
  await f.store.saved();
  t.equal(f.saves(), 0, 'a detector ban waits for the coalesced write');
  f.ban('192.0.2.71', { origin: 'control', by: 'control' });
  await f.store.saved();
  t.equal(f.saves(), 1, 'a manual ban is written before saved() resolves');
  t.same(f.file().map((r) => r.address).sort(), ['192.0.2.70', '192.0.2.71'], 'with everything before it');
  await f.store.unban('192.0.2.70');
  await f.store.saved();
  t.equal(f.saves(), 2, 'so is an unban');

  // Writes never overlap: calls made while one runs share the next.
  let running = 0;
  let most = 0;
  let writes = 0;
  const store = new BanStore(
    {
      kernel: { add: async () => [], del: async () => undefined, list: async () => [] },
      file: {
        path: 'p',
        load: async function* () {},
        save: async () => {
          writes++;
          most = Math.max(most, ++running);
          await new Promise((r) => setTimeout(r, 20));
          running--;
        },
      },
      now: () => 1_000_000,
      onError: (e) => t.fail(String(e)),
    },
    { duration: H, escalation: { factor: 2, max: 4 * H, memory: 24 * H }, maxEntries: 100, allowlist: [] },
  );
  await Promise.all([store.save(), store.save(), store.save(), store.save()]);
  t.equal(most, 1, 'one write at a time');
  t.equal(writes, 2, 'the three made while the first ran shared one');
});

t.test('reasons are stored once each; past 65,535 distinct ones the text is not kept, and says so', async (t) => {
  const f = fixture({ maxEntries: 100_000 });
  for (let i = 0; i < 65_536; i++) f.ban(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, { reason: `manual ${i}`, by: 'control' });
  const list = f.store.list();
  t.equal(list.find((b) => b.address === '10.0.0.0')?.reason, 'manual 0');
  t.equal(list.find((b) => b.address === '10.0.255.252')?.reason, 'manual 65532');
  t.match(list.find((b) => b.address === '10.0.255.255')?.reason, /not kept/);
  t.equal(list.find((b) => b.address === '10.0.255.255')?.by, 'control', 'a known text still is');
});

// What CrowdSec's decisions need of the store: a request without escalation lengthens a running
// ban and never shortens it; a lift limited to one origin; lifts in the batches bans go in.
t.test('without escalation: a running ban is lengthened, never shortened', async (t) => {
  const f = fixture();
  f.ban('192.0.2.2', { durationMs: 2 * H, by: 'detector:portScan' });
  const shorter = f.ban('192.0.2.2', { durationMs: H, reason: 's', by: 'crowdsec', origin: 'crowdsec', escalate: false });
  t.match(shorter, { kind: 'already', entry: { origin: 'agent', by: 'detector:portScan', until: 1_000_000 + 2 * H } }, 'a shorter decision leaves the ban as it is');
  t.match(f.ban('192.0.2.2', { durationMs: 2 * H + 999, by: 'crowdsec', origin: 'crowdsec', escalate: false }), { kind: 'already' }, 'so does one less than a second longer (the kernel counts seconds)');
  await f.store.flushed();
  const writes = f.added().length;
  const longer = f.ban('192.0.2.2', { durationMs: 3 * H, reason: 'crowdsecurity/ssh-bf', by: 'crowdsec', origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', escalate: false });
  t.match(longer, { kind: 'banned', entry: { origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', until: 1_000_000 + 3 * H } }, 'a longer one lengthens it, and it is CrowdSec\'s now');
  await f.store.flushed();
  t.same(f.added().slice(writes), ['192.0.2.2/10800'], 'the kernel gets the new timeout');
  t.equal(f.store.count(), 1);
  t.match(f.ban('192.0.2.2', { durationMs: 10 * H, escalate: true }), { kind: 'already', entry: { until: 1_000_000 + 3 * H } }, 'with escalation a running ban is not made again');
});

t.test('unban of one origin lifts only a running ban of that origin', async (t) => {
  const f = fixture();
  f.ban('192.0.2.2', { by: 'detector:synFlood' });
  f.ban('192.0.2.3', { by: 'crowdsec', origin: 'crowdsec', durationMs: H, escalate: false });
  f.ban('198.51.100.0/24', { by: 'crowdsec', origin: 'crowdsec', durationMs: H, escalate: false });
  f.ban('192.0.2.4', { by: 'crowdsec', origin: 'crowdsec', durationMs: 1000, escalate: false });
  await f.store.flushed();
  const before = f.calls.length;
  t.equal(await f.store.unban('192.0.2.2', { origin: 'crowdsec' }), false, "the agent's own ban stays");
  t.ok(f.has('192.0.2.2'));
  f.tick(1001);
  t.equal(await f.store.unban('192.0.2.4', { origin: 'crowdsec' }), false, 'an expired one is not lifted again');
  t.equal(await f.store.unban('192.0.2.9', { origin: 'crowdsec' }), false, 'nothing to lift');
  t.equal(f.calls.length, before, 'none of those touched the kernel');
  t.equal(await f.store.unban('192.0.2.3', { origin: 'crowdsec' }), true);
  t.equal(await f.store.unban('198.51.100.0/24', { origin: 'crowdsec' }), true, 'a range too');
  t.same(f.store.list().map((b) => b.address), ['192.0.2.2']);
  t.same(f.calls.slice(before), [{ op: 'del', target: '192.0.2.3' }, { op: 'del', target: '198.51.100.0/24' }]);
  await f.store.saved();
  t.equal(f.saves(), 0, 'the lifts of a source are saved with the coalesced write, not at once');
});

t.test('lifts go to the kernel in the batches bans go in, in order', async (t) => {
  const f = fixture({ maxEntries: 10_000 });
  const targets = Array.from({ length: 3000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  for (const a of targets) f.ban(a, { origin: 'crowdsec', by: 'crowdsec', durationMs: H, escalate: false });
  const lifts = targets.map((a) => f.store.unban(a, { origin: 'crowdsec' }));
  f.ban(targets[0]!);
  t.same(await Promise.all(lifts), targets.map(() => true));
  await f.store.flushed();
  t.equal(f.added().length, 3001, 'every ban written');
  t.equal(f.calls.filter((c) => c.op === 'del').length, 3000, 'and every lift');
  t.ok(f.writes() <= Math.ceil(6001 / KERNEL_BATCH) + 1, `in batches: ${f.writes()} kernel writes`);
  const lastDel = f.calls.map((c) => c.op === 'del' && c.target === targets[0]).lastIndexOf(true);
  t.ok(f.calls.findIndex((c, i) => i > lastDel && c.op === 'add' && c.entries!.some((e) => e.startsWith(`${targets[0]}/`))) > lastDel, 'a ban made after its lift is written after it');
  t.same(f.store.list().map((b) => b.address), [targets[0]]);
});

t.test('running bans counted by origin', async (t) => {
  const f = fixture();
  f.ban('192.0.2.1');
  f.ban('192.0.2.2', { origin: 'control', by: 'control' });
  f.ban('203.0.113.0/24', { origin: 'crowdsec', by: 'crowdsec', durationMs: 1000, escalate: false });
  f.ban('2001:db8::1', { origin: 'crowdsec', by: 'crowdsec', durationMs: H, escalate: false });
  t.same(f.store.stats().activeByOrigin, { agent: 1, control: 1, crowdsec: 2, log: 0, kernel: 0 });
  f.tick(1001);
  t.same(f.store.stats().activeByOrigin, { agent: 1, control: 1, crowdsec: 1, log: 0, kernel: 0 }, 'what has run out is not counted');
});

t.test('the origin counts follow a ban taken over by another origin, lifted, evicted and restored', async (t) => {
  const f = fixture({ maxEntries: 3 });
  const byOrigin = () => f.store.stats().activeByOrigin;
  f.ban('192.0.2.1');
  f.ban('192.0.2.1', { origin: 'crowdsec', by: 'crowdsec', durationMs: 4 * H, escalate: false });
  t.same(byOrigin(), { agent: 0, control: 0, crowdsec: 1, log: 0, kernel: 0 }, "lengthened by a CrowdSec decision: CrowdSec's now");
  f.tick(1);
  f.ban('192.0.2.2', { origin: 'control', by: 'control' });
  f.ban('192.0.2.3', { origin: 'log', by: 'log:sshd' });
  f.ban('192.0.2.4');
  t.same(byOrigin(), { agent: 1, control: 0, crowdsec: 1, log: 1, kernel: 0 }, 'at maxEntries the soonest to end (the manual one) made room');
  t.ok(await f.store.unban('192.0.2.1'));
  t.same(byOrigin(), { agent: 1, control: 0, crowdsec: 0, log: 1, kernel: 0 }, 'a lift');
  await f.store.save();
  const g = fixture({}, { saved: f.file() });
  t.equal(await g.store.restore(), 2);
  t.same(g.store.stats().activeByOrigin, { agent: 1, control: 0, crowdsec: 0, log: 1, kernel: 0 }, 'restored from the state file');
});

t.test('bulk: coalesced writes wait for the load to end, then one follows; manual ones do not wait; the bans reach the kernel meanwhile', async (t) => {
  const f = fixture({ maxEntries: 10_000 });
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // A coalesced write armed before the load began waits for it too.
  f.ban('192.0.2.9');
  let release!: () => void;
  const load = f.store.bulk(async () => {
    for (let i = 0; i < 2000; i++) f.store.bulkBan({ target: `10.1.${i >> 8}.${i & 255}`, durationMs: H, reason: 'x', by: 'crowdsec', origin: 'crowdsec', escalate: false });
    await f.store.flushed();
    await new Promise<void>((r) => (release = r));
    return 'loaded';
  });
  await wait(1500);
  t.equal(f.added().length, 2001, 'every ban in the kernel during the load');
  t.equal(f.saves(), 0, 'no coalesced write during the load, however long');
  f.ban('192.0.2.1', { origin: 'control', by: 'control' });
  await f.store.saved();
  t.equal(f.saves(), 1, 'a manual ban is written at once');
  release();
  t.equal(await load, 'loaded', 'bulk() answers what the load did');
  await wait(1500);
  t.equal(f.saves(), 2, 'the load written once, after it');
  t.equal(f.file().filter((r) => r.type === 'ban').length, 2002);
  await wait(1500);
  t.equal(f.saves(), 2, 'and nothing more');
  await t.rejects(f.store.bulk(async () => Promise.reject(new Error('the pull failed'))), /the pull failed/, 'a failed load rejects');
  f.ban('192.0.2.2');
  await wait(1500);
  t.equal(f.saves(), 3, 'and the writes are coalesced again after it');
});

t.test('bulkBan: the same bans as ban(), answered with the kind alone', async (t) => {
  const f = fixture();
  const req = (target: string, more: Partial<BanRequest> = {}): BanRequest => ({ target, durationMs: H, reason: 'crowdsecurity/ssh-bf', by: 'crowdsec', origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', escalate: false, ...more });
  t.equal(f.store.bulkBan(req('192.0.2.5')), 'banned');
  t.equal(f.store.bulkBan(req('192.0.2.5')), 'already');
  t.equal(f.store.bulkBan(req('127.0.0.1')), 'allowlisted');
  t.equal(f.store.bulkBan(req('0.0.0.0')), 'refused');
  t.equal(f.store.bulkBan(req('198.51.100.7/24', { durationMs: 2 * H })), 'banned');
  t.match(f.store.list(), [
    { address: '192.0.2.5', origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', until: 1_000_000 + H },
    { address: '198.51.100.0/24', origin: 'crowdsec' },
  ]);
  await f.store.flushed();
  t.same(f.added(), ['192.0.2.5/3600', '198.51.100.0/24/7200']);
});

t.test('a write reads the tables as they are, slot by slot: bans made and lifted during it leave every record whole, and the write they asked for holds them', async (t) => {
  const writes: BanRecord[][] = [];
  let midway: (() => void) | null = null;
  const store = new BanStore(
    {
      kernel: { add: async () => [], del: async () => undefined, list: async () => [] },
      file: {
        path: 'p',
        load: async function* () {},
        save: async (records) => {
          const out: BanRecord[] = [];
          writes.push(out);
          // A record at a time with turns of the event loop between, as a long file is written.
          for (const r of records) {
            out.push(r);
            if (out.length === 50) midway?.();
            await new Promise((r) => setImmediate(r));
          }
        },
      },
      now: () => 1_000_000,
      onError: (e) => t.fail(String(e)),
    },
    { duration: H, escalation: { factor: 2, max: 4 * H, memory: 24 * H }, maxEntries: 1000, allowlist: [] },
  );
  const ban = (target: string) => store.ban({ target, durationMs: null, reason: 'x', by: 'control', origin: 'control' });
  for (let i = 0; i < 200; i++) ban(`10.0.0.${i}`);
  await store.saved();
  writes.length = 0;
  midway = () => {
    midway = null;
    for (let i = 0; i < 30; i++) ban(`10.0.1.${i}`);
    void store.unban('10.0.0.1');
    void store.unban('10.0.0.199');
  };
  await store.save();
  await store.saved();
  t.ok(writes.length >= 2, `the changes asked for another write (${writes.length})`);
  const first = writes[0]!;
  t.ok(first.every((r) => /^10\.0\.[01]\.\d+$/.test(r.address) && (r.type === 'ban' ? r.until === 1_000_000 + H && r.by === 'control' : r.count === 1)), 'every record whole');
  t.equal(new Set(first.map((r) => r.address)).size, first.length, 'none twice');
  t.ok(first.some((r) => r.address === '10.0.1.29'), 'a ban made during the write, in a slot not read yet, is in it');
  t.match(first.find((r) => r.address === '10.0.0.199'), { type: 'offender' }, 'a ban lifted before its slot was read is an offender there');
  const last = writes.at(-1)!;
  const bans = last.filter((r) => r.type === 'ban').map((r) => r.address).sort();
  t.same(bans, store.list().map((b) => b.address).sort(), 'the last write holds the store as it is');
  t.same(last.filter((r) => r.type === 'offender').map((r) => r.address).sort(), ['10.0.0.1', '10.0.0.199'], 'the lifted ones as offenders');
});

t.test('stats: bans made by decider and origin, active per family, lifted, expired, evicted, allowlisted, the last ones made', async (t) => {
  const f = fixture({ maxEntries: 16 });
  f.ban('192.0.2.1', { durationMs: H, by: 'detector:synFlood' });
  f.ban('192.0.2.1', { durationMs: H, by: 'detector:synFlood' });
  f.ban('2001:db8::1', { durationMs: 2 * H, by: 'control', origin: 'control' });
  f.ban('192.0.2.2', { durationMs: 3 * H, by: 'detector:portScan' });
  f.ban('203.0.113.0/24', { durationMs: 3 * H, by: 'crowdsec', origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf' });
  t.match(
    f.store.stats(),
    {
      active: 4,
      activeByFamily: { ipv4: 3, ipv6: 1 },
      lifted: 0,
      expired: 0,
      evicted: 0,
      allowlisted: 0,
    },
    'the repeat of a running ban is not a new ban; a range ban counts in its family',
  );
  t.same(
    f.store.stats().made,
    [
      { by: 'detector:synFlood', origin: 'agent', count: 1 },
      { by: 'control', origin: 'control', count: 1 },
      { by: 'detector:portScan', origin: 'agent', count: 1 },
      { by: 'crowdsec', origin: 'crowdsec', count: 1 },
    ],
    'one each, by decider and origin',
  );
  t.same(f.store.stats().recent.map((b) => b.address), ['203.0.113.0/24', '192.0.2.2', '2001:db8::1', '192.0.2.1'], 'newest first');
  await f.store.unban('2001:db8::1');
  await f.store.unban('2001:db8::1');
  f.tick(H + 1);
  t.match(f.store.stats(), { active: 2, activeByFamily: { ipv4: 2, ipv6: 0 }, lifted: 1, expired: 1 }, 'one lifted (once), one ran out');
  f.store.updateSettings({ duration: H, escalation: { factor: 2, max: 4 * H, memory: 24 * H }, maxEntries: 16, allowlist: [parseCidr('192.0.2.0/24')!] });
  t.match(f.store.stats(), { active: 1, allowlisted: 1 }, 'a new allowlist ended one');
  for (let i = 0; i < 16; i++) f.ban(`198.51.100.${i}`, { durationMs: 5 * H, by: 'control', origin: 'control' });
  t.match(f.store.stats(), { active: 16, evicted: 1 }, 'the cap ended one early');
  t.equal(f.store.stats().made.find((m) => m.by === 'control')?.count, 17, 'most first: the manual ones');
  t.equal(f.store.stats().made[0]?.by, 'control');
  t.equal(f.store.stats().recent.length, 10, 'the last ten are kept');
});

t.test('stats: restored and adopted bans are active, not made', async (t) => {
  const f = fixture({}, { saved: [{ type: 'ban', address: '192.0.2.7', family: 4, since: 1_000_000, until: 1_000_000 + H, reason: 'x', by: 'd', origin: 'agent', offense: 1 }], kernel: [{ target: '2001:db8::9', family: 6, secondsLeft: 60 }] });
  await f.store.restore();
  const s = f.store.stats();
  t.match(s, { active: 2, activeByFamily: { ipv4: 1, ipv6: 1 } });
  t.same([s.made, s.recent], [[], []]);
});

t.test('stats: a bulk load counts every ban it makes; its last ones join the last made when it ends', async (t) => {
  const f = fixture({ maxEntries: 1000 });
  f.ban('192.0.2.1', { by: 'detector:synFlood' });
  const crowdsec = (target: string): BanRequest => ({ target, durationMs: H, reason: 'crowdsecurity/ssh-bf', by: 'crowdsec', origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', escalate: false });
  await f.store.bulk(async () => {
    for (let i = 0; i < 25; i++) f.store.bulkBan(crowdsec(`10.0.0.${i}`));
    f.store.bulkBan(crowdsec('10.0.0.3'));
    f.store.bulkBan(crowdsec('127.0.0.1'));
    void f.store.unban('10.0.0.24', { origin: 'crowdsec' });
    t.same(f.store.stats().recent.map((b) => b.address), ['192.0.2.1'], 'during the load, the last made before it');
  });
  const s = f.store.stats();
  t.same(s.made, [{ by: 'crowdsec', origin: 'crowdsec', count: 25 }, { by: 'detector:synFlood', origin: 'agent', count: 1 }], 'each ban made once; the repeat and the allowlisted one are not');
  t.same(s.recent.map((b) => b.address), ['10.0.0.23', '10.0.0.22', '10.0.0.21', '10.0.0.20', '10.0.0.19', '10.0.0.18', '10.0.0.17', '10.0.0.16', '10.0.0.15', '192.0.2.1'], 'newest first, without the one lifted since');
  t.match(s.recent[0], { origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf' });
});
