// An accept-everything NFQUEUE consumer in Node, one per backend, for the benchmark's queue rows.
// Usage: node consumer.js KIND QUEUE_NUM MAX_LEN   (KIND: nfqueue | native-raw | native)
//   nfqueue     the npm `nfqueue` binding, one setVerdict per packet
//   native-raw  the project's addon, verdicts filled without looking at the packets (its ceiling),
//               accepts as plain NF_ACCEPT (no pass mark), as the C consumer gives them
//   native      NativeQueue (agent/src/queue/native.ts): one QueuedPacket per packet, as the agent sees them
// Prints "ready" on stderr once bound; on SIGTERM prints {"received": N} and exits.
import { createRequire } from 'node:module';

const [kind, numArg, maxLenArg] = process.argv.slice(2);
const num = Number(numArg);
const maxLen = Number(maxLenArg);
let received = 0;
let close = () => {};

if (kind === 'nfqueue') {
  const nfq = createRequire(import.meta.url)('nfqueue');
  nfq.createQueueHandler(num, 0xffff, (p) => {
    received++;
    p.setVerdict(nfq.NF_ACCEPT);
  });
} else if (kind === 'native-raw') {
  const { loadNativeBinding } = await import('../../agent/dist/queue/native-binding.js');
  const { DONE_MARK, MARK_MASK, REJECT_MARK } = await import('../../agent/dist/kernel/names.js');
  const { Queue } = loadNativeBinding();
  const q = new Queue({ num, maxLen, failOpen: false, copyRange: 0xffff, maxBatch: 256, markMask: MARK_MASK, passMark: 0, rejectMark: REJECT_MARK, doneMark: DONE_MARK }, (_data, count) => {
    received += count;
    q.verdicts.fill(1, 0, count);
  });
  close = () => q.close();
} else if (kind === 'native') {
  const { NativeQueue } = await import('../../agent/dist/queue/native.js');
  const q = new NativeQueue({ num, maxLen, failOpen: false });
  q.start(() => 'accept');
  close = () => {
    received = q.stats().received;
    q.close();
  };
} else {
  console.error(`consumer.js: unknown kind ${kind}`);
  process.exit(2);
}
process.stderr.write('ready\n');
process.once('SIGTERM', () => {
  close();
  process.stdout.write(JSON.stringify({ received }) + '\n');
  process.exit(0);
});
