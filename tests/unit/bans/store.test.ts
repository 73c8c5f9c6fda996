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
  const calls: Array<{ op: string; entries?: string[]; target?: string }> = [];
  const errors: Error[] = [];
  let file: unknown[] = opts.saved ?? [];
  let saves = 0;
  const kernel: BanKernel = {
    add: async (entries) => {
      const list = [...entries()];
      calls.push({ op: 'add', entries: list.map((e) => `${e.target}/${e.seconds}`) });
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
  return { store, ban, calls, added, errors, has, tick: (ms: number) => (now += ms), file: () => file as BanRecord[], saves: () => saves };
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
