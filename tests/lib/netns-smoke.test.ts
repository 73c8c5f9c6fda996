// The lab itself: peers reach the server over v4 and v6, the denied source routes back, and
// teardown leaves no namespace behind.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { makeLab } from './netns.js';

t.test('lab links and teardown', async (t) => {
  const lab = await makeLab();
  try {
    for (const p of [lab.attacker, lab.client]) {
      t.equal((await lab.status(p.ns, 'ping', ['-c1', '-W1', p.server4])).code, 0, `${p.ns} v4`);
      t.equal((await lab.status(p.ns, 'ping', ['-6', '-c1', '-W1', p.server6])).code, 0, `${p.ns} v6`);
    }
    t.equal((await lab.status(lab.attacker.ns, 'ping', ['-c1', '-W1', '-I', lab.denied4, lab.attacker.server4])).code, 0, 'denied source routes back');
  } finally {
    await lab.destroy();
  }
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  t.notMatch(left, lab.server, 'server namespace removed');
  t.notMatch(left, lab.attacker.ns, 'attacker namespace removed');
});
