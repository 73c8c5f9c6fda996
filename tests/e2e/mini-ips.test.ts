// The mini-IPS's own case: an application on this server (port 2222) leaks a pattern in what it
// sends to its clients; an outbound payload rule on localPorts [2222] catches it, in one segment
// and split across two, over IPv4 and IPv6. `drop` keeps the connection open and the pattern never
// arrives; `reject` kills it at both ends (the kernel aborts this server's socket and resets the peer). Connections the server opens to a remote
// port 2222 are not this rule's business. And `depth` counts payload bytes exactly.
import t, { type Test } from 'tap';
import { readFrom, startChattyApp, type ReadResult } from '../../agent/src/demo/probes.js';
import type { PolicyInput } from '../../agent/src/policy/schema.js';
import { agentLab, testPolicy } from '../lib/agent-lab.js';
import type { Lab } from '../lib/netns.js';

const leakRule = (action: 'drop' | 'reject'): PolicyInput =>
  testPolicy({
    rules: [{ name: 'app', action: 'accept', protocol: 'tcp', localPorts: [2222] }],
    payloadRules: [{ name: 'leak', direction: 'outbound', protocol: 'tcp', localPorts: [2222], pattern: { text: 'SECRET-LEAK' }, action }],
  });

async function session(t: Test, lab: Lab, server: string, chunks: string[]): Promise<{ client: ReadResult; app: string[] }> {
  const app = startChattyApp(lab, lab.server, 2222, chunks);
  t.teardown(() => app.kill());
  await app.ready;
  const client = await readFrom(lab, lab.client.ns, server, 2222, 2500);
  await new Promise((r) => setTimeout(r, 300));
  app.kill();
  return { client, app: app.lines };
}

t.test('drop: the benign part arrives, the pattern never does, the connection stays open (one segment and split, v4 and v6)', async (t) => {
  const { lab, agent } = await agentLab(t, leakRule('drop'));
  for (const [fam, srv] of [['v4', lab.client.server4], ['v6', lab.client.server6]] as const) {
    const one = await session(t, lab, srv, ['hello benign\n', 'SECRET-LEAK token=42\n']);
    t.equal(one.client.data, 'hello benign\n', `${fam}: only the benign part arrived`);
    t.same([one.client.error, one.client.closed], [null, false], `${fam}: the connection stays open (TCP retransmits into the block)`);
    const split = await session(t, lab, srv, ['hello benign\n', 'SECRET-', 'LEAK token=42\n']);
    t.equal(split.client.data, 'hello benign\nSECRET-', `${fam}: split across segments: the half that completes it is dropped`);
    t.notMatch(split.client.data, /SECRET-LEAK/, `${fam}: the pattern never arrives whole`);
  }
  const e = await agent.waitFor((ev) => ev.event === 'drop' && ev.by === 'payload:leak');
  t.match(e, { direction: 'outbound', sport: 2222, proto: 'tcp' }, 'the event names the rule, the direction and the port');
});

t.test('reject: the connection is killed at both ends (v4 and v6)', async (t) => {
  const { lab, agent } = await agentLab(t, leakRule('reject'));
  for (const [fam, srv] of [['v4', lab.client.server4], ['v6', lab.client.server6]] as const) {
    const r = await session(t, lab, srv, ['hello benign\n', 'SECRET-LEAK token=42\n', 'more\n']);
    t.equal(r.client.data, 'hello benign\n', `${fam}: the client got the benign part only`);
    t.equal(r.client.error, 'ECONNRESET', `${fam}: and a reset`);
    t.ok(r.app.includes('APP ECONNABORTED'), `${fam}: and the application's socket was killed by the kernel (${r.app.join(', ')})`);
  }
  t.ok(agent.events.some((ev) => ev.event === 'reject' && ev.by === 'payload:leak' && ev.direction === 'outbound'), 'logged as a reject by the rule');
});

t.test('connections this server opens to a remote port 2222 are not inspected by a localPorts rule', async (t) => {
  const { lab } = await agentLab(t, leakRule('drop'));
  // Here the client namespace runs the listener and the server connects out to it.
  const remote = startChattyApp(lab, lab.client.ns, 2222, ['SECRET-LEAK from afar\n']);
  t.teardown(() => remote.kill());
  await remote.ready;
  t.equal((await readFrom(lab, lab.server, lab.client.ip4, 2222, 1500)).data, 'SECRET-LEAK from afar\n', 'what a remote 2222 sends the server is not the application\'s output');
});

t.test('depth counts payload bytes: patterns at 0, 200 and 290 against depth 16 and 300', async (t) => {
  const at = (offset: number) => 'x'.repeat(offset) + 'EVIL' + 'y'.repeat(16);
  const depthPolicy = (depth: number): PolicyInput =>
    testPolicy({ payloadRules: [{ name: 'early', protocol: 'tcp', localPorts: [8080], pattern: { text: 'EVIL' }, action: 'reject', depth }] });
  const sends = async (lab: Lab, payload: string) =>
    JSON.parse((await lab.exec(lab.client.ns, process.execPath, ['-e', SEND, lab.client.server4, '8080', payload], { timeoutMs: 10_000 })).stdout) as { replies: number; error: string | null };
  {
    const { lab } = await agentLab(t, depthPolicy(16));
    t.equal((await sends(lab, at(0))).error, 'ECONNRESET', 'depth 16: at byte 0, caught');
    t.equal((await sends(lab, at(200))).error, null, 'depth 16: at byte 200, passes (past the depth)');
  }
  {
    const { lab } = await agentLab(t, depthPolicy(300));
    t.equal((await sends(lab, at(200))).error, 'ECONNRESET', 'depth 300: at byte 200, caught');
    t.equal((await sends(lab, at(298))).error, 'ECONNRESET', 'depth 300: at byte 298, crossing the limit, caught');
    t.equal((await sends(lab, at(310))).error, null, 'depth 300: at byte 310, passes');
  }
});

/** Sends one payload (after the handshake, so the first data segment starts at payload byte 0) and counts the answers. */
const SEND = `
const net = require('node:net');
const [host, port, payload] = process.argv.slice(1);
const out = { replies: 0, error: null };
const s = net.connect({ host, port: Number(port) }, () => s.write(payload));
s.on('data', () => out.replies++);
s.on('error', (e) => (out.error = e.code || e.message));
setTimeout(() => { process.stdout.write(JSON.stringify(out)); process.exit(0); }, 1500);
`;
