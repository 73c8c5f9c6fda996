// The wait between tries while the LAPI fails, for both roles: from the base, doubling, capped,
// never below the base (a cap set under the poll interval does not make the retries faster).
import t from 'tap';
import { backoffMs } from '../../../agent/src/crowdsec/retry.js';

t.test('doubling from the base up to the cap', async (t) => {
  t.same([1, 2, 3, 4, 5, 6].map((n) => backoffMs(10_000, 60_000, n)), [10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
  t.same([1, 2].map((n) => backoffMs(10_000, 1_000, n)), [10_000, 10_000], 'a cap below the base: the base');
});
