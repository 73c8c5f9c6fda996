// NflogReader without the kernel: a fake addon hands it batches laid out as the real one does
// (packet bytes in one Buffer, four metadata words per packet); the handler gets each logged
// packet once, and the group number is checked before anything opens.
import t from 'tap';
import { FLAG_INBOUND, LOG_META_WORDS, type NativeBinding, type NativeLogOptions } from '../../../agent/src/queue/native-binding.js';
import { NflogReader, readLogBatch } from '../../../agent/src/queue/nflog.js';
import type { LoggedPacket } from '../../../agent/src/queue/types.js';

interface FakeLogged {
  inbound: boolean;
  ifindex: number;
  bytes: Buffer;
}

/** Lays packets out as the addon does: bytes back to back, metadata flags, offset, length, ifindex. */
function batch(packets: FakeLogged[], meta: Uint32Array): Buffer {
  let offset = 0;
  packets.forEach((p, i) => {
    meta.set([p.inbound ? FLAG_INBOUND : 0, offset, p.bytes.length, p.ifindex], i * LOG_META_WORDS);
    offset += p.bytes.length;
  });
  return Buffer.concat(packets.map((p) => p.bytes));
}

const logged = (text: string, inbound = true, ifindex = 2): FakeLogged => ({ inbound, ifindex, bytes: Buffer.from(text) });
const plain = (p: LoggedPacket) => ({ payload: p.payload.toString(), direction: p.direction, ifindex: p.ifindex });

function fakeBinding() {
  const state: { opts?: NativeLogOptions; onBatch?: (data: Buffer, count: number) => void; closed: number } = { closed: 0 };
  const meta = new Uint32Array(8 * LOG_META_WORDS);
  const binding: Pick<NativeBinding, 'Log'> = {
    Log: class {
      meta = meta;
      constructor(opts: NativeLogOptions, onBatch: (data: Buffer, count: number) => void) {
        state.opts = opts;
        state.onBatch = onBatch;
      }
      close() {
        state.closed++;
      }
    },
  };
  const deliver = (packets: FakeLogged[]) => state.onBatch!(batch(packets, meta), packets.length);
  return { binding, state, deliver };
}

t.test('readLogBatch: one LoggedPacket per entry, in order, views into the batch', async (t) => {
  const packets = [logged('first'), logged('second', false, 7), logged('')];
  const meta = new Uint32Array(packets.length * LOG_META_WORDS);
  const data = batch(packets, meta);
  const seen: LoggedPacket[] = [];
  t.equal(readLogBatch(data, packets.length, meta, (p) => seen.push(p)), 3);
  t.same(seen.map(plain), [
    { payload: 'first', direction: 'inbound', ifindex: 2 },
    { payload: 'second', direction: 'outbound', ifindex: 7 },
    { payload: '', direction: 'inbound', ifindex: 2 },
  ]);
  t.equal(seen[1]!.payload.buffer, data.buffer, 'no copy');
  t.equal(readLogBatch(data, 1, meta, () => {}), 1, 'only `count` entries are read');
});

t.test('NflogReader: the group reaches the addon, batches reach the handler, stats count them', async (t) => {
  const { binding, state, deliver } = fakeBinding();
  const r = new NflogReader({ group: 9 }, () => binding);
  const seen: string[] = [];
  r.start((p) => seen.push(p.payload.toString()));
  t.match(state.opts, { group: 9 });
  t.ok(state.opts!.copyRange >= 1500 && state.opts!.maxBatch > 0, "the reader asks for whole packets: the rule's --nflog-size decides");
  deliver([logged('a'), logged('b')]);
  deliver([logged('c')]);
  t.same(seen, ['a', 'b', 'c']);
  t.same(r.stats(), { received: 3 });
  t.throws(() => r.start(() => {}), { code: 'VPSFW_ERR_QUEUE', message: /NFLOG group 9 is already started/ });
  r.close();
  t.equal(state.closed, 1);
});

t.test('NflogReader: a group the kernel refuses gives VPSFW_ERR_QUEUE naming the group and the reason', async (t) => {
  const failing: Pick<NativeBinding, 'Log'> = {
    Log: class {
      constructor() {
        throw Object.assign(new Error('nflog_bind_group (another process is bound to this group): Operation not permitted'), { errno: 1 });
      }
    } as unknown as NativeBinding['Log'],
  };
  t.throws(() => new NflogReader({ group: 3 }, () => failing).start(() => {}), { code: 'VPSFW_ERR_QUEUE', message: 'cannot read NFLOG group 3: nflog_bind_group (another process is bound to this group): Operation not permitted' });
});

t.test('NflogReader: a group outside 0..65535 is refused before anything opens', async (t) => {
  const { binding, state } = fakeBinding();
  for (const group of [-1, 65536, 1.5, Number.NaN]) {
    t.throws(() => new NflogReader({ group }, () => binding), { code: 'VPSFW_ERR_QUEUE', message: /NFLOG group must be an integer in 0\.\.65535/ }, String(group));
  }
  t.equal(state.opts, undefined);
  t.doesNotThrow(() => new NflogReader({ group: 65535 }, () => binding));
});
