// Loads the project's NFQUEUE addon (agent/native, built by node-gyp). The one place that knows
// where the .node file lives; a missing build is an error that lists where it looked.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { VpsfwError } from '../errors.js';

/** Layout of the shared metadata array: these many words per packet, in this order. */
export const META_WORDS = 5;
export const META = { id: 0, mark: 1, flags: 2, offset: 3, length: 4 } as const;
export const FLAG_INBOUND = 1;
/** Verdict codes the addon reads from the shared verdict array. */
export const VERDICT_CODE = { drop: 0, accept: 1, reject: 2 } as const;

export interface NativeQueueOptions {
  num: number;
  maxLen: number;
  failOpen: boolean;
  /** Bytes of each packet copied to user space. */
  copyRange: number;
  /** Most packets handed to JavaScript at once. */
  maxBatch: number;
  /** A reject is NF_REPEAT with the packet's mark changed to rejectMark under markMask. */
  rejectMark: number;
  markMask: number;
}

/** An open queue: the addon fills `meta` and calls onBatch; onBatch fills `verdicts`. */
export interface NativeQueueHandle {
  readonly meta: Uint32Array;
  readonly verdicts: Uint8Array;
  close(): void;
}

export interface NativeBinding {
  Queue: new (opts: NativeQueueOptions, onBatch: (data: Buffer, count: number) => void) => NativeQueueHandle;
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
    throw new VpsfwError('VPSFW_ERR_QUEUE', `the native queue addon is not built: looked for ${paths.join(', ')} (build it with \`npx node-gyp rebuild -C agent/native\`; needs libnetfilter-queue-dev)`);
  }
  try {
    return require(found) as NativeBinding;
  } catch (err) {
    throw new VpsfwError('VPSFW_ERR_QUEUE', `cannot load the native queue addon ${found}: ${(err as Error).message}`, { cause: err });
  }
}
