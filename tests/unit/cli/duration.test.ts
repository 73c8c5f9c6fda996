// Durations as people read them: the two largest units, zeros dropped.
import t from 'tap';
import { humanDuration } from '../../../agent/src/cli/duration.js';

t.test('two units at most, no zero parts, never negative', async (t) => {
  const s = 1000;
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [-5 * s, '0s'],
    [999, '0s'],
    [42 * s, '42s'],
    [60 * s, '1m'],
    [61 * s, '1m 1s'],
    [(72 * 60 + 5) * s, '1h 12m'],
    [3600 * s, '1h'],
    [(3600 + 5) * s, '1h'],
    [(86_400 + 4 * 3600 + 59) * s, '1d 4h'],
    [7 * 86_400 * s, '7d'],
    [(10 * 86_400 + 60) * s, '10d'],
  ];
  for (const [ms, want] of cases) t.equal(humanDuration(ms), want, `${ms} ms`);
});
