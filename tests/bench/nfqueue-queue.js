// The npm `nfqueue` binding as a PacketQueue: kept only as the benchmark's comparison row (the
// agent reads the queue through its own addon, agent/native; docs/benchmarks.md says why). The
// binding cannot set the queue length or fail-open, and cannot close.
import { createRequire } from 'node:module';
import { ESTABLISHED_MARK, MARK_MASK, REJECT_MARK } from '../../agent/dist/kernel/names.js';
import { readKernelDrops } from '../../agent/dist/queue/kernel-drops.js';

const nfq = createRequire(import.meta.url)('nfqueue');

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
      });
      if (verdict === 'accept') raw.setVerdict(nfq.NF_ACCEPT);
      else if (verdict === 'drop') raw.setVerdict(nfq.NF_DROP);
      else raw.setVerdict(nfq.NF_REPEAT, (mark & ~MARK_MASK) | REJECT_MARK);
    });
  }

  close() {
    this.#closed = true;
  }

  stats() {
    const kernelDrops = readKernelDrops(this.#opts.num);
    return { received: this.#received, kernelDrops, unjudged: this.#opts.failOpen ? null : kernelDrops };
  }
}
