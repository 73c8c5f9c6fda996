// The npm `nfqueue` binding as a PacketQueue: kept only as the benchmark's comparison row (the
// agent reads the queue through its own addon, agent/native; docs/benchmarks.md says why). The
// binding cannot set the queue length or fail-open, and cannot close.
import { createRequire } from 'node:module';
import { DONE_MARK, ESTABLISHED_MARK, MARK_MASK, PASS_MARK, REJECT_MARK } from '../../agent/dist/kernel/names.js';
import { readQueueStats } from '../../agent/dist/queue/kernel-drops.js';

const nfq = createRequire(import.meta.url)('nfqueue');
/** The agent's verdicts (queue/types.ts): all but drop are NF_REPEAT with a mark under MARK_MASK. */
const REPEAT_MARK = { accept: PASS_MARK, reject: REJECT_MARK, done: DONE_MARK };

export class NfqueueBindingQueue {
  #opts;
  #received = 0;
  #closed = false;

  constructor(opts) {
    this.#opts = opts;
  }

  start(handler) {
    nfq.createQueueHandler(this.#opts.num, 0xffff, (raw) => {
      if (this.#closed) return raw.setVerdict(nfq.NF_ACCEPT);
      this.#received++;
      const mark = raw.info.nfmark;
      const verdict = handler({
        id: raw.info.id,
        payload: raw.payload,
        direction: raw.info.indev !== 0 ? 'inbound' : 'outbound',
        established: (mark & MARK_MASK) === ESTABLISHED_MARK,
        ifindex: raw.info.indev || raw.info.outdev,
      });
      if (verdict === 'drop') raw.setVerdict(nfq.NF_DROP);
      else raw.setVerdict(nfq.NF_REPEAT, (mark & ~MARK_MASK) | REPEAT_MARK[verdict]);
    });
  }

  close() {
    this.#closed = true;
  }

  stats() {
    return { received: this.#received, kernel: readQueueStats(this.#opts.num) };
  }
}
