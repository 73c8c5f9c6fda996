// PacketQueue over the `nfqueue` npm binding (libnetfilter_queue). The binding cannot set the
// queue length or the queue's fail-open flag, and cannot close: fail-open rests on the kernel
// rule's --queue-bypass, and the queue goes away with the process.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { VpsfwError } from '../errors.js';
import { ESTABLISHED_MARK, MARK_MASK, REJECT_MARK } from '../kernel/names.js';
import type { PacketQueue, QueueOptions, QueueStats, QueuedPacket, QueueVerdict } from './types.js';

interface BindingPacket {
  info: { id: number; nfmark: number; indev: number; outdev: number };
  payload: Buffer;
  setVerdict(verdict: number, mark?: number): void;
}
interface Binding {
  NF_DROP: number;
  NF_ACCEPT: number;
  NF_REPEAT: number;
  createQueueHandler(num: number, copyRange: number, cb: (p: BindingPacket) => void): unknown;
}

const require = createRequire(import.meta.url);

function loadBinding(): Binding {
  try {
    return require('nfqueue') as Binding;
  } catch (err) {
    throw new VpsfwError('VPSFW_ERR_QUEUE', `cannot load the nfqueue binding (npm package "nfqueue", needs libnetfilter-queue): ${(err as Error).message}`, { cause: err });
  }
}

export class NfqueueBindingQueue implements PacketQueue {
  readonly #opts: QueueOptions;
  #received = 0;
  #closed = false;

  constructor(opts: QueueOptions) {
    this.#opts = opts;
  }

  start(handler: (p: QueuedPacket) => QueueVerdict): void {
    const b = loadBinding();
    try {
      b.createQueueHandler(this.#opts.num, 0xffff, (raw) => {
        if (this.#closed) return raw.setVerdict(b.NF_ACCEPT);
        this.#received++;
        const mark = raw.info.nfmark;
        const verdict = handler({
          id: raw.info.id,
          payload: raw.payload,
          // Packets from the INPUT hook carry an input device; OUTPUT ones only an output device.
          direction: raw.info.indev !== 0 ? 'inbound' : 'outbound',
          established: (mark & MARK_MASK) === ESTABLISHED_MARK,
        });
        if (verdict === 'accept') raw.setVerdict(b.NF_ACCEPT);
        else if (verdict === 'drop') raw.setVerdict(b.NF_DROP);
        else raw.setVerdict(b.NF_REPEAT, (mark & ~MARK_MASK) | REJECT_MARK);
      });
    } catch (err) {
      throw new VpsfwError('VPSFW_ERR_QUEUE', `cannot open NFQUEUE ${this.#opts.num}: ${(err as Error).message} (is another process bound to it? does this process hold CAP_NET_ADMIN?)`, { cause: err });
    }
  }

  close(): void {
    this.#closed = true;
  }

  stats(): QueueStats {
    return { received: this.#received, kernelDrops: readKernelDrops(this.#opts.num) };
  }
}


/** /proc/net/netfilter/nfnetlink_queue: queue_dropped and user_dropped columns for our queue. */
export function readKernelDrops(num: number, text?: string): number {
  let body = text;
  if (body === undefined) {
    try {
      body = readFileSync('/proc/net/netfilter/nfnetlink_queue', 'utf8');
    } catch {
      return 0;
    }
  }
  for (const line of body.split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f[0] === num && f.length >= 7) return (f[5] ?? 0) + (f[6] ?? 0);
  }
  return 0;
}
