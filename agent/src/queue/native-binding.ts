// Loads the project's kernel packet addon (agent/native, built by node-gyp: NFQUEUE, NFLOG, raw
// sockets). The one place that knows where the .node file lives; a missing build is an error that
// lists where it looked.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { VpsfwError } from '../errors.js';

/** Layout of a queue's shared metadata array: these many words per packet, in this order. */
export const META_WORDS = 6;
export const META = { id: 0, mark: 1, flags: 2, offset: 3, length: 4, ifindex: 5 } as const;
/** Layout of a log's shared metadata array: the queue's without id and mark. */
export const LOG_META_WORDS = 4;
export const LOG_META = { flags: 0, offset: 1, length: 2, ifindex: 3 } as const;
export const FLAG_INBOUND = 1;
/** Verdict codes the addon reads from the shared verdict array. */
export const VERDICT_CODE = { drop: 0, accept: 1, reject: 2, done: 3 } as const;

export interface NativeQueueOptions {
  num: number;
  maxLen: number;
  failOpen: boolean;
  /** Bytes of each packet copied to user space. */
  copyRange: number;
  /** Most packets handed to JavaScript at once. */
  maxBatch: number;
  /**
   * accept, reject and done are NF_REPEAT with the packet's mark set to passMark, rejectMark,
   * doneMark under markMask (the bits outside it kept); a passMark of 0 makes accept a plain
   * NF_ACCEPT. drop is NF_DROP.
   */
  markMask: number;
  passMark: number;
  rejectMark: number;
  doneMark: number;
}

/** An open queue: the addon fills `meta` and calls onBatch; onBatch fills `verdicts`. */
export interface NativeQueueHandle {
  readonly meta: Uint32Array;
  readonly verdicts: Uint8Array;
  close(): void;
}

export interface NativeLogOptions {
  group: number;
  /** Bytes of each packet copied to user space (the rule's --nflog-size may ask for fewer). */
  copyRange: number;
  maxBatch: number;
}

/** An open NFLOG group: the addon fills `meta` and calls onBatch. */
export interface NativeLogHandle {
  readonly meta: Uint32Array;
  close(): void;
}

export interface NativeRawSenderOptions {
  /** SO_MARK of every packet sent. */
  mark: number;
}

/** Raw IPv4 and IPv6 sockets: send() takes a whole IP packet and throws with the errno text. */
export interface NativeRawSenderHandle {
  send(packet: Buffer): void;
  close(): void;
}

export interface NativeBinding {
  Queue: new (opts: NativeQueueOptions, onBatch: (data: Buffer, count: number) => void) => NativeQueueHandle;
  Log: new (opts: NativeLogOptions, onBatch: (data: Buffer, count: number) => void) => NativeLogHandle;
  RawSender: new (opts: NativeRawSenderOptions) => NativeRawSenderHandle;
  /** SOCK_DESTROY of this host's TCP socket with that four-tuple (throws with `errno`: ENOENT when there is none). */
  destroySocket(family: 4 | 6, local: Buffer, localPort: number, remote: Buffer, remotePort: number): void;
}

const FILE = 'vpsfw_queue.node';

/** Where the build lands, seen from agent/src/queue (tests) and agent/dist/queue (the package) alike. */
export function candidatePaths(): string[] {
  return ['Release', 'Debug'].map((dir) => fileURLToPath(new URL(`../../native/build/${dir}/${FILE}`, import.meta.url)));
}

const require = createRequire(import.meta.url);

export function loadNativeBinding(paths: string[] = candidatePaths()): NativeBinding {
  const found = paths.find((p) => existsSync(p));
  if (!found) {
    throw new VpsfwError('VPSFW_ERR_QUEUE', `the native packet addon is not built: looked for ${paths.join(', ')} (build it with \`npx node-gyp rebuild -C agent/native\`; needs libnetfilter-queue-dev and libnetfilter-log-dev)`);
  }
  try {
    return require(found) as NativeBinding;
  } catch (err) {
    throw new VpsfwError('VPSFW_ERR_QUEUE', `cannot load the native packet addon ${found}: ${(err as Error).message}`, { cause: err });
  }
}
