// PacketQueue over the project's own NFQUEUE addon (agent/native): packets arrive in batches,
// one Buffer and one metadata array per wake-up, and verdicts go back as one typed array.
import { VpsfwError } from '../errors.js';
import { DONE_MARK, ESTABLISHED_MARK, MARK_MASK, PASS_MARK, REJECT_MARK } from '../kernel/names.js';
import { FLAG_INBOUND, META, META_WORDS, VERDICT_CODE, loadNativeBinding, type NativeBinding, type NativeQueueHandle } from './native-binding.js';
import { readQueueStats } from './kernel-drops.js';
import type { KernelQueueStats, PacketQueue, QueueOptions, QueueStats, QueuedPacket, QueueVerdict } from './types.js';

/** Whole packets: the payload matcher needs every byte, and the kernel segments GSO packets first. */
const COPY_RANGE = 0xffff;
const MAX_BATCH = 256;

/**
 * Judges one batch: one QueuedPacket per metadata entry (its payload a view into `data`), the
 * handler's verdict written to `verdicts`. Returns how many packets were judged.
 */
export function judgeBatch(data: Buffer, count: number, meta: Uint32Array, verdicts: Uint8Array, handler: (p: QueuedPacket) => QueueVerdict): number {
  for (let i = 0; i < count; i++) {
    const m = i * META_WORDS;
    const offset = meta[m + META.offset]!;
    const mark = meta[m + META.mark]!;
    const verdict = handler({
      id: meta[m + META.id]!,
      payload: data.subarray(offset, offset + meta[m + META.length]!),
      direction: (meta[m + META.flags]! & FLAG_INBOUND) !== 0 ? 'inbound' : 'outbound',
      established: (mark & MARK_MASK) === ESTABLISHED_MARK,
      ifindex: meta[m + META.ifindex]!,
    });
    verdicts[i] = VERDICT_CODE[verdict];
  }
  return count;
}

export class NativeQueue implements PacketQueue {
  readonly #opts: QueueOptions;
  readonly #load: () => Pick<NativeBinding, 'Queue'>;
  readonly #readKernel: (num: number) => KernelQueueStats | null;
  #handle: NativeQueueHandle | undefined;
  #received = 0;

  constructor(opts: QueueOptions, load: () => Pick<NativeBinding, 'Queue'> = loadNativeBinding, readKernel = readQueueStats) {
    this.#opts = opts;
    this.#load = load;
    this.#readKernel = readKernel;
  }

  start(handler: (p: QueuedPacket) => QueueVerdict): void {
    if (this.#handle) throw new VpsfwError('VPSFW_ERR_QUEUE', `NFQUEUE ${this.#opts.num} is already started`);
    const { Queue } = this.#load();
    const opts = { ...this.#opts, copyRange: COPY_RANGE, maxBatch: MAX_BATCH, markMask: MARK_MASK, passMark: PASS_MARK, rejectMark: REJECT_MARK, doneMark: DONE_MARK };
    try {
      const handle: NativeQueueHandle = new Queue(opts, (data, count) => {
        this.#received += judgeBatch(data, count, handle.meta, handle.verdicts, handler);
      });
      this.#handle = handle;
    } catch (err) {
      throw new VpsfwError('VPSFW_ERR_QUEUE', `cannot open NFQUEUE ${this.#opts.num}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Unbinds the queue (the kernel releases what is pending) and stops polling its socket. */
  close(): void {
    this.#handle?.close();
  }

  stats(): QueueStats {
    return { received: this.#received, kernel: this.#readKernel(this.#opts.num) };
  }
}
