// NativeQueue without the kernel: a fake addon hands it batches laid out as the real one does
// (packet bytes in one Buffer, six metadata words per packet), and the verdicts it writes back
// are read from the shared array. Also the loader's error when the build is missing.
import t from 'tap';
import { CONNMARK_DONE_IN, CONNMARK_DONE_OUT, DONE_MARK, ESTABLISHED_MARK, MARK_MASK, OWN_MARK, PASS_MARK, REJECT_MARK } from '../../../agent/src/kernel/names.js';
import { FLAG_INBOUND, META_WORDS, VERDICT_CODE, loadNativeBinding, type NativeBinding, type NativeQueueOptions } from '../../../agent/src/queue/native-binding.js';
import { NativeQueue, judgeBatch } from '../../../agent/src/queue/native.js';
import type { QueuedPacket, QueueVerdict } from '../../../agent/src/queue/types.js';

interface FakePacket {
  id: number;
  mark: number;
  inbound: boolean;
  ifindex: number;
  bytes: Buffer;
}

/** Lays packets out as the addon does: bytes back to back, metadata id, mark, flags, offset, length, ifindex. */
function batch(packets: FakePacket[], meta: Uint32Array): Buffer {
  let offset = 0;
  packets.forEach((p, i) => {
    meta.set([p.id, p.mark, p.inbound ? FLAG_INBOUND : 0, offset, p.bytes.length, p.ifindex], i * META_WORDS);
    offset += p.bytes.length;
  });
  return Buffer.concat(packets.map((p) => p.bytes));
}

function fakeBinding() {
  const state: { opts?: NativeQueueOptions; onBatch?: (data: Buffer, count: number) => void; closed: number } = { closed: 0 };
  const meta = new Uint32Array(8 * META_WORDS);
  const verdicts = new Uint8Array(8);
  const binding: Pick<NativeBinding, 'Queue'> = {
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

const pkt = (id: number, text: string, mark = 0, inbound = true, ifindex = 2): FakePacket => ({ id, mark, inbound, ifindex, bytes: Buffer.from(text) });

t.test('judgeBatch: one QueuedPacket per entry, verdicts in order', async (t) => {
  const packets = [pkt(7, 'first'), pkt(8, 'second-packet', ESTABLISHED_MARK | 0x1, false, 3), pkt(9, ''), pkt(10, 'last', 0, true, 0xfffffffe)];
  const meta = new Uint32Array(packets.length * META_WORDS);
  const verdicts = new Uint8Array(packets.length).fill(255);
  const seen: QueuedPacket[] = [];
  const answers: QueueVerdict[] = ['accept', 'reject', 'drop', 'done'];
  const n = judgeBatch(batch(packets, meta), packets.length, meta, verdicts, (p) => (seen.push(p), answers[seen.length - 1]!));
  t.equal(n, 4);
  t.same(
    seen.map((p) => ({ id: p.id, payload: p.payload.toString(), direction: p.direction, established: p.established, ifindex: p.ifindex })),
    [
      { id: 7, payload: 'first', direction: 'inbound', established: false, ifindex: 2 },
      { id: 8, payload: 'second-packet', direction: 'outbound', established: true, ifindex: 3 },
      { id: 9, payload: '', direction: 'inbound', established: false, ifindex: 2 },
      { id: 10, payload: 'last', direction: 'inbound', established: false, ifindex: 0xfffffffe },
    ],
  );
  t.same([...verdicts], [VERDICT_CODE.accept, VERDICT_CODE.reject, VERDICT_CODE.drop, VERDICT_CODE.done]);
  t.same([VERDICT_CODE.drop, VERDICT_CODE.accept, VERDICT_CODE.reject, VERDICT_CODE.done], [0, 1, 2, 3], 'the codes the addon reads');
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
  const kernel = { inQueue: 1, queueDropped: 2, userDropped: 3, idSequence: 4 };
  const asked: number[] = [];
  const q = new NativeQueue({ num: 5, maxLen: 2048, failOpen: true }, () => binding, (num) => (asked.push(num), kernel));
  const seen: string[] = [];
  q.start((p) => (seen.push(p.payload.toString()), p.payload.toString() === 'bad' ? 'drop' : 'accept'));
  t.match(state.opts, { num: 5, maxLen: 2048, failOpen: true, markMask: MARK_MASK, passMark: PASS_MARK, rejectMark: REJECT_MARK, doneMark: DONE_MARK });
  t.ok(state.opts!.copyRange >= 1500, 'whole packets are copied');

  t.same(deliver([pkt(1, 'good'), pkt(2, 'bad')]), [VERDICT_CODE.accept, VERDICT_CODE.drop]);
  t.same(deliver([pkt(3, 'again')]), [VERDICT_CODE.accept]);
  t.same(seen, ['good', 'bad', 'again']);
  t.same(q.stats(), { received: 3, kernel }, "stats: the packets judged, beside the kernel's counters for this queue");
  t.same(asked, [5]);

  t.throws(() => q.start(() => 'accept'), { code: 'VPSFW_ERR_QUEUE' }, 'a second start is refused');
  q.close();
  t.equal(state.closed, 1, 'close closes the addon queue');
});

t.test('NativeQueue: an addon that cannot open the queue gives VPSFW_ERR_QUEUE naming the queue', async (t) => {
  const failing: Pick<NativeBinding, 'Queue'> = {
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

t.test('the verdict marks: distinct, under MARK_MASK; the connmark bits outside it', async (t) => {
  const marks = [REJECT_MARK, ESTABLISHED_MARK, PASS_MARK, DONE_MARK, OWN_MARK];
  t.equal(new Set(marks).size, marks.length);
  for (const m of marks) t.ok(m !== 0 && (m & ~MARK_MASK) === 0, `0x${m.toString(16)} under the mask`);
  for (const bit of [CONNMARK_DONE_IN, CONNMARK_DONE_OUT]) t.equal(bit & MARK_MASK, 0, `connmark bit 0x${bit.toString(16)} outside the mask`);
});

t.test('the built addon: Queue, Log and RawSender, each naming a bad option before it opens anything', async (t) => {
  const { Queue, Log, RawSender } = loadNativeBinding();
  const queueOpts = { num: 1, maxLen: 16, failOpen: false, copyRange: 100, maxBatch: 8, markMask: MARK_MASK, passMark: PASS_MARK, rejectMark: REJECT_MARK, doneMark: DONE_MARK };
  t.throws(() => new Queue({ ...queueOpts, doneMark: undefined } as unknown as NativeQueueOptions, () => {}), { name: 'TypeError', message: 'new Queue: options.doneMark is missing or out of range' });
  t.throws(() => new Queue({ ...queueOpts, maxBatch: 0 }, () => {}), { message: /options\.maxBatch/ });
  t.throws(() => new Log({ group: 70000, copyRange: 100, maxBatch: 8 }, () => {}), { name: 'TypeError', message: /options\.group/ });
  t.throws(() => new Log({ group: 1, copyRange: 100 } as never, () => {}), { message: /options\.maxBatch/ });
  t.throws(() => new RawSender({} as never), { name: 'TypeError', message: /options\.mark/ });
});
