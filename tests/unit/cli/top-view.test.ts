// `vpsfw top`'s screen and plain lines from status readings: rates from counter differences,
// sparklines scaled to their window, the refused sources and the recent bans with time left,
// lines cut to the terminal's width.
import t from 'tap';
import { sparkline, topLine, topScreen, type Sample } from '../../../agent/src/cli/top-view.js';
import { fakeStatus } from '../../lib/status.js';

const reading = (at: number, drop: number, received: number, bansMade = 4, banned = 9000): Sample => {
  const s = fakeStatus();
  const kernel = { ...s.kernel, counters: { ...s.kernel.counters, banned } };
  return { at, s: { ...s, kernel, verdicts: { ...s.verdicts, drop }, queue: { ...s.queue, received }, bans: { ...s.bans, made: [{ by: 'control', origin: 'control', count: bansMade }] } } };
};

t.test('sparkline', async (t) => {
  t.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8), '▁▂▃▄▅▆▇█');
  t.equal(sparkline([null, 0, 0], 5), '   ▁▁', 'no value is a blank; padded on the left');
  t.equal(sparkline([1, 2, 3, 4], 2), '▆█', 'the newest that fit, scaled to them');
});

t.test('audit mode says so in the first line', async (t) => {
  const audit = { at: 0, s: fakeStatus({ mode: 'audit' }) };
  t.match(topScreen([audit], 120, 0)[0], /AUDIT \(nothing enforced\)/);
  t.notMatch(topScreen([reading(0, 1, 1)], 120, 0)[0], /AUDIT/);
});

t.test('the screen', async (t) => {
  const samples = [reading(0, 100, 1000), reading(1000, 150, 1100), reading(2000, 350, 1400, 6, 9500)];
  const screen = topScreen(samples, 100, 1_000_000);
  const line = (label: string) => screen.find((l) => l.startsWith(label))!;
  t.match(line('drop/s'), /\s200$/, 'drops per second: the last difference');
  t.match(line('queue/s'), /\s300 judged$/);
  t.match(line('bans/s'), /\s2$/);
  t.match(line('banned/s'), /\s500$/, 'what the kernel dropped of banned sources');
  t.match(line('bans '), /\s3 in force$/);
  t.match(line('drop/s'), / [▁-█]{2}/, 'with a sparkline of the rates so far');
  t.match(screen.join('\n'), /192\.0\.2\.9\s+180/, 'the source refused most');
  t.match(screen.join('\n'), /192\.0\.2\.9\s+10m00s  detector:synFlood: SYN rate over 20\/1s/, 'a recent ban, its time left, by whom and why');
  t.ok(topScreen(samples, 40, 0).every((l) => l.length <= 40), 'cut to the width');
  t.same(topScreen([], 80, 0), ['vpsfw top: waiting for the agent…']);
});

t.test('plain lines', async (t) => {
  t.match(topLine([reading(0, 100, 1000), reading(2000, 300, 1000)]), /^\d{4}-\d\d-\d\dT\S+ accept\/s=0 drop\/s=100 reject\/s=0 bans=3 bans\/s=0 banned\/s=0 queue\/s=0 unjudged\/s=0$/);
  t.match(topLine([reading(0, 100, 1000, 4, 9000), reading(1000, 100, 1000, 4, 10)]), /banned\/s=– /, 'a kernel counter that restarted (a reload) has no rate, not a negative one');
  t.match(topLine([reading(0, 100, 1000)]), /drop\/s=– /, 'a first reading has no rate');
});
