// PacketLog over the addon's NFLOG reader: copies of the packets a `-j NFLOG --nflog-group N`
// rule logged, in batches as the queue's (one Buffer and one metadata array per wake-up). The
// kernel never holds a packet for us: the detectors see what the kernel refused without slowing it.
import { VpsfwError } from '../errors.js';
import { FLAG_INBOUND, LOG_META, LOG_META_WORDS, loadNativeBinding, type NativeBinding, type NativeLogHandle } from './native-binding.js';
import type { LogOptions, LogStats, LoggedPacket, PacketLog } from './types.js';

/** As much as the rule copies: its --nflog-size is the limit (the kernel takes the smaller). */
const COPY_RANGE = 0xffff;
const MAX_BATCH = 256;

/** Hands one batch to the handler, one LoggedPacket per metadata entry (a view into `data`); returns the count. */
export function readLogBatch(data: Buffer, count: number, meta: Uint32Array, handler: (p: LoggedPacket) => void): number {
  for (let i = 0; i < count; i++) {
    const m = i * LOG_META_WORDS;
    const offset = meta[m + LOG_META.offset]!;
    handler({
      payload: data.subarray(offset, offset + meta[m + LOG_META.length]!),
      direction: (meta[m + LOG_META.flags]! & FLAG_INBOUND) !== 0 ? 'inbound' : 'outbound',
      ifindex: meta[m + LOG_META.ifindex]!,
    });
  }
  return count;
}

export class NflogReader implements PacketLog {
  readonly #opts: LogOptions;
  readonly #load: () => Pick<NativeBinding, 'Log'>;
  #handle: NativeLogHandle | undefined;
  #received = 0;

  constructor(opts: LogOptions, load: () => Pick<NativeBinding, 'Log'> = loadNativeBinding) {
    if (!Number.isInteger(opts.group) || opts.group < 0 || opts.group > 0xffff) {
      throw new VpsfwError('VPSFW_ERR_QUEUE', `NFLOG group must be an integer in 0..65535 (got ${JSON.stringify(opts.group)})`);
    }
    this.#opts = opts;
    this.#load = load;
  }

  start(handler: (p: LoggedPacket) => void): void {
    const { group } = this.#opts;
    if (this.#handle) throw new VpsfwError('VPSFW_ERR_QUEUE', `NFLOG group ${group} is already started`);
    const { Log } = this.#load();
    try {
      const handle: NativeLogHandle = new Log({ group, copyRange: COPY_RANGE, maxBatch: MAX_BATCH }, (data, count) => {
        this.#received += readLogBatch(data, count, handle.meta, handler);
      });
      this.#handle = handle;
    } catch (err) {
      throw new VpsfwError('VPSFW_ERR_QUEUE', `cannot read NFLOG group ${group}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Unbinds the group (another reader can bind it) and stops polling its socket. */
  close(): void {
    this.#handle?.close();
  }

  stats(): LogStats {
    return { received: this.#received };
  }
}
