// Payload rules on real TCP streams: the pattern in one segment, split across two, over IPv6,
// and a reject that the client sees as a reset.
import t from 'tap';
import { probe } from '../../agent/src/demo/probes.js';
import { agentLab, testPolicy } from '../lib/agent-lab.js';

const policy = testPolicy({
  payloadRules: [
    { name: 'no-passwd', protocol: 'tcp', ports: [8080], pattern: { text: '/etc/passwd' }, action: 'drop' },
    { name: 'no-shell', protocol: 'tcp', ports: [80], pattern: { regex: 'cmd=[a-z]+;\\s*sh' }, action: 'reject' },
  ],
});

t.test('payload rules: drop whole and split, v4 and v6; reject resets', async (t) => {
  const { lab, agent } = await agentLab(t, policy);
  for (const [fam, srv] of [['v4', lab.client.server4], ['v6', lab.client.server6]] as const) {
    t.equal((await probe(lab, lab.client.ns, srv, 8080, { chunks: ['GET /index.html\r\n'] })).replies, 1, `${fam}: clean request answered`);
    t.equal((await probe(lab, lab.client.ns, srv, 8080, { chunks: ['GET /etc/passwd\r\n'] })).replies, 0, `${fam}: pattern in one segment dropped`);
    const split = await probe(lab, lab.client.ns, srv, 8080, { chunks: ['GET /etc/pa', 'sswd\r\n'] });
    // The first half is answered; the second completes the pattern and is dropped (retransmissions too).
    t.equal(split.replies, 1, `${fam}: pattern split across segments dropped`);
  }
  const reset = await probe(lab, lab.client.ns, lab.client.server4, 80, { chunks: ['x=1&cmd=ls; sh\r\n'] });
  t.equal(reset.error, 'ECONNRESET', 'reject: the client sees a reset');
  t.ok(agent.events.some((e) => e.event === 'drop' && e.by === 'payload:no-passwd'), 'drop logged with the rule');
  t.ok(agent.events.some((e) => e.event === 'reject' && e.by === 'payload:no-shell'), 'reject logged with the rule');
});

t.test('static reject: a SYN to a rejected port is refused, not ignored', async (t) => {
  const { lab } = await agentLab(t, testPolicy({ rules: [{ name: 'closed-9090', action: 'reject', protocol: 'tcp', ports: [9090] }] }));
  t.equal((await probe(lab, lab.client.ns, lab.client.server4, 9090)).error, 'ECONNREFUSED', 'v4 refused');
  t.equal((await probe(lab, lab.client.ns, lab.client.server6, 9090)).error, 'ECONNREFUSED', 'v6 refused');
});
