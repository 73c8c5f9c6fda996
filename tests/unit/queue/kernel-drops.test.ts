// The kernel's table of queues, parsed: every counter of the queue asked for, null for a queue
// the table does not list, and null when the table cannot be read.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QUEUE_TABLE, parseQueueStats, readQueueStats } from '../../../agent/src/queue/kernel-drops.js';

// As the kernel prints it (number, port id, waiting, copy mode, copy range, queue_dropped,
// user_dropped, id_sequence, 1), numbers right-aligned.
const TABLE = ['    0  12345     3 2 65535    17     5     1000  1', '    3 4294963295    0 2 65535     0     0 4294967295  1', ''].join('\n');

t.test('parseQueueStats: the columns of the queue asked for', async (t) => {
  t.same(parseQueueStats(TABLE, 0), { inQueue: 3, queueDropped: 17, userDropped: 5, idSequence: 1000 });
  t.same(parseQueueStats(TABLE, 3), { inQueue: 0, queueDropped: 0, userDropped: 0, idSequence: 4294967295 }, '32-bit values are read whole');
});

t.test('parseQueueStats: null for a queue not listed, an empty table, or lines that are not the format', async (t) => {
  t.equal(parseQueueStats(TABLE, 1), null);
  t.equal(parseQueueStats('', 0), null);
  t.equal(parseQueueStats('0 1 2 3', 0), null, 'too few columns');
  t.equal(parseQueueStats('0 1 x 3 4 5 6 7 1', 0), null, 'a column that is not a number');
});

t.test('readQueueStats: reads the file given, null when it is missing', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'nfnetlink_queue');
  writeFileSync(path, TABLE);
  t.same(readQueueStats(0, path), { inQueue: 3, queueDropped: 17, userDropped: 5, idSequence: 1000 });
  t.equal(readQueueStats(0, join(dir, 'missing')), null);
  t.equal(QUEUE_TABLE, '/proc/self/net/netfilter/nfnetlink_queue', "the process's own view (its network namespace's)");
});
