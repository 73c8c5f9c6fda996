// The demo's report reads at a glance: a table within 100 columns with every column headed, then
// each scene's decisions, expectation and the note on its counts.
import t from 'tap';
import { formatTable, type SceneResult } from '../../../agent/src/demo/demo.js';

const rows: SceneResult[] = [
  { scene: 'normal client session', source: '198.51.100.2', sent: 'ssh session, 3 pings', observed: 'session answered, 3/3 pongs', decidedBy: 'rule:ping ×3, rule:ssh ×1', note: 'rule:ssh ×1 for a whole session: the agent judges a connection\'s first packet.', banned: false, expected: 'allowed', ok: true },
  { scene: 'SYN flood on port 80', source: '2001:db8:1234:5678:9abc:def0:1234:5678', sent: '2000 SYNs in ~1 s', observed: 'banned (detector:synFlood); client still served', decidedBy: 'rule:http ×40, flow:established ×40, detector:synFlood ×12, rule:ssh ×1', note: 'Of 2000 SYNs the agent saw 52: 40 accepted within the detector\'s allowance (burst 40), 12 dropped by it until the ban was in the kernel.', banned: true, expected: 'banned by detector:synFlood; client unaffected', ok: false },
  { scene: 'payload on port 80', source: '192.0.2.14', sent: '3 HTTP requests: clean, pattern, pattern split in 2 segments', observed: 'clean answered, pattern blocked, split: 1st segment answered, 2nd blocked', decidedBy: '-', banned: false, expected: 'dropped', ok: true },
];

t.test('fits 100 columns, every column headed, every scene and its details', async (t) => {
  const out = formatTable(rows);
  const lines = out.split('\n');
  for (const l of lines) t.ok([...l].length <= 100, `at most 100 columns: ${JSON.stringify(l)}`);
  t.match(lines[0], /^#\s+scene\s+source\s+sent\s+observed\s+result$/, 'a header over every column');
  t.match(out, /\n2\s+SYN flood on port\s+2001:db8:1234:5678:9/, 'a long source wraps in its own column');
  t.match(out, /UNEXPECTED/);
  t.match(out, /\n2\. SYN flood on port 80 \(2001:db8:1234:5678:9abc:def0:1234:5678\)\n\s+decided by\s+rule:http ×40, flow:established ×40/);
  t.match(out, /counts\s+Of 2000 SYNs the agent saw 52/, 'the note on the counts');
  t.notMatch(out.split('\n3. payload')[1], /counts/, 'no note where none is needed');
  t.match(out, /decided by: the packets the agent judged/, 'the column is explained once');
});
