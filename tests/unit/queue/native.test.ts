// NativeQueue without the kernel: a fake addon hands it batches laid out as the real one does
// (packet bytes in one Buffer, five metadata words per packet), and the verdicts it writes back
// are read from the shared array. Also the loader's error when the build is missing.
import t from 'tap';
import { ESTABLISHED_MARK, REJECT_MARK } from '../../../agent/src/kernel/names.js';
import { FLAG_INBOUND, META_WORDS, VERDICT_CODE, loadNativeBinding, type NativeBinding, type NativeQueueOptions } from '../../../agent/src/queue/native-binding.js';
import { NativeQueue, judgeBatch } from '../../../agent/src/queue/native.js';
import type { QueuedPacket, QueueVerdict } from '../../../agent/src/queue/types.js';

interface FakePacket {
  id: number;
  mark: number;
  inbound: boolean;
  bytes: Buffer;
}

/** Lays packets out as the addon does: bytes back to back, metadata id, mark, flags, offset, length. */
function batch(packets: FakePacket[], meta: Uint32Array): Buffer {
  let offset = 0;
  packets.forEach((p, i) => {
    meta.set([p.id, p.mark, p.inbound ? FLAG_INBOUND : 0, offset, p.bytes.length], i * META_WORDS);
    offset += p.bytes.length;
  });
  return Buffer.concat(packets.map((p) => p.bytes));
}

function fakeBinding() {
  const state: { opts?: NativeQueueOptions; onBatch?: (data: Buffer, count: number) => void; closed: number } = { closed: 0 };
  const meta = new Uint32Array(8 * META_WORDS);
  const verdicts = new Uint8Array(8);
  const binding: NativeBinding = {
    Queue: class {
      meta = meta;
      verdicts = verdicts;
      constructor(opts: NativeQueueOptions, onBatch: (data: Buffer, count: number) => void) {
        state.opts = opts;
        state.onBatch = onBatch;
      }
      close() {
        state.closed++;
      }
    },
  };
  /** Delivers one batch as the addon would and returns the verdict codes written for it. */
  const deliver = (packets: FakePacket[]) => {
    state.onBatch!(batch(packets, meta), packets.length);
    return [...verdicts.subarray(0, packets.length)];
  };
  return { binding, state, deliver };
}

const pkt = (id: number, text: string, mark = 0, inbound = true): FakePacket => ({ id, mark, inbound, bytes: Buffer.from(text) });

t.test('judgeBatch: one QueuedPacket per entry, verdicts in order', async (t) => {
  const packets = [pkt(7, 'first'), pkt(8, 'second-packet', ESTABLISHED_MARK | 0x1, false), pkt(9, '')];
  const meta = new Uint32Array(packets.length * META_WORDS);
  const verdicts = new Uint8Array(packets.length).fill(255);
  const seen: QueuedPacket[] = [];
  const answers: QueueVerdict[] = ['accept', 'reject', 'drop'];
  const n = judgeBatch(batch(packets, meta), packets.length, meta, verdicts, (p) => (seen.push(p), answers[seen.length - 1]!));
  t.equal(n, 3);
  t.same(
    seen.map((p) => ({ id: p.id, payload: p.payload.toString(), direction: p.direction, established: p.established })),
    [
      { id: 7, payload: 'first', direction: 'inbound', established: false },
      { id: 8, payload: 'second-packet', direction: 'outbound', established: true },
      { id: 9, payload: '', direction: 'inbound', established: false },
    ],
  );
  t.same([...verdicts], [VERDICT_CODE.accept, VERDICT_CODE.reject, VERDICT_CODE.drop]);
});

t.test('judgeBatch: a mark other than ESTABLISHED_MARK under the mask is not established', async (t) => {
  const packets = [pkt(1, 'x', REJECT_MARK)];
  const meta = new Uint32Array(META_WORDS);
  const seen: QueuedPacket[] = [];
  judgeBatch(batch(packets, meta), 1, meta, new Uint8Array(1), (p) => (seen.push(p), 'accept'));
  t.equal(seen[0]!.established, false);
});

t.test('NativeQueue: options reach the addon, batches reach the handler, stats count them', async (t) => {
  const { binding, state, deliver } = fakeBinding();
  const q = new NativeQueue({ num: 5, maxLen: 2048, failOpen: true }, () => binding);
  const seen: string[] = [];
  q.start((p) => (seen.push(p.payload.toString()), p.payload.toString() === 'bad' ? 'drop' : 'accept'));
  t.match(state.opts, { num: 5, maxLen: 2048, failOpen: true, rejectMark: REJECT_MARK });
  t.ok(state.opts!.copyRange >= 1500, 'whole packets are copied');

  t.same(deliver([pkt(1, 'good'), pkt(2, 'bad')]), [VERDICT_CODE.accept, VERDICT_CODE.drop]);
  t.same(deliver([pkt(3, 'again')]), [VERDICT_CODE.accept]);
  t.same(seen, ['good', 'bad', 'again']);
  t.equal(q.stats().received, 3);
  t.equal(q.stats().unjudged, null, 'fail-open: what the kernel let through unjudged is not counted, and says so');
  t.equal(new NativeQueue({ num: 5, maxLen: 16, failOpen: false }, () => binding).stats().unjudged, 0, 'fail-closed: the kernel drop counters');

  t.throws(() => q.start(() => 'accept'), { code: 'VPSFW_ERR_QUEUE' }, 'a second start is refused');
  q.close();
  t.equal(state.closed, 1, 'close closes the addon queue');
});

t.test('NativeQueue: an addon that cannot open the queue gives VPSFW_ERR_QUEUE naming the queue', async (t) => {
  const failing: NativeBinding = {
    Queue: class {
      constructor() {
        throw new Error('nfq_create_queue: Operation not permitted');
      }
    } as unknown as NativeBinding['Queue'],
  };
  const q = new NativeQueue({ num: 9, maxLen: 16, failOpen: false }, () => failing);
  t.throws(() => q.start(() => 'accept'), { code: 'VPSFW_ERR_QUEUE', message: /NFQUEUE 9.*Operation not permitted/ });
});

t.test('loadNativeBinding: a missing build names every place it looked', async (t) => {
  const paths = ['/nonexistent/a/vpsfw_queue.node', '/nonexistent/b/vpsfw_queue.node'];
  t.throws(() => loadNativeBinding(paths), { code: 'VPSFW_ERR_QUEUE', message: /\/nonexistent\/a\/vpsfw_queue\.node, \/nonexistent\/b\/vpsfw_queue\.node/ });
});
