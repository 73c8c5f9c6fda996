// The payload matcher: patterns in one segment and split across two or three; retransmissions,
// overlaps and reordering neither fake a match nor hide one; bounded window and flow table;
// FIN/RST; UDP per datagram; direction; depth; blocked flows; log rules.
import t from 'tap';
import { PayloadMatcher } from '../../../../agent/src/engine/dpi/matcher.js';
import { flowKey } from '../../../../agent/src/packet/flow.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type Packet, type TcpHeader } from '../../../../agent/src/packet/types.js';
import { parsePolicy } from '../../../../agent/src/policy/load.js';
import type { PolicyInput } from '../../../../agent/src/policy/schema.js';
import { segment, tcp, udp, V4 } from '../../../lib/fake-packet.js';

type Rules = NonNullable<PolicyInput['payloadRules']>;
const PASSWD: Rules = [{ name: 'no-passwd', protocol: 'tcp', ports: [80], pattern: { text: '/etc/passwd' }, action: 'drop', ban: '1h' }];

function matcher(payloadRules: Rules, limits = { maxFlows: 100, flowIdleMs: 300_000 }) {
  return new PayloadMatcher(parsePolicy({ version: 1, payloadRules }, 'test').policy, limits);
}

/** Runs a connection: a SYN at ISN 999 (data from 1000), then the segments; the verdicts' deciders. */
function stream(m: PayloadMatcher, segments: Array<[number, string] | Packet>, o: { now?: number } = {}) {
  const now = o.now ?? 0;
  m.check(tcp({ seq: 999 }), 'inbound', false, now);
  return segments.map((s) => {
    const p = Array.isArray(s) ? segment(s[0], s[1]) : s;
    return m.check(p, 'inbound', true, now)?.by.name ?? null;
  });
}

t.test('text, hex and regex in one segment; the verdict names the rule and carries its ban', async (t) => {
  const m = matcher([
    ...PASSWD,
    { name: 'magic', protocol: 'tcp', ports: [80], pattern: { hex: 'de ad be ef' }, action: 'reject' },
    { name: 'sqli', protocol: 'tcp', ports: [80], pattern: { regex: 'union\\s+select' }, action: 'drop' },
  ]);
  const v = m.check(segment(1, 'GET /etc/passwd HTTP/1.1\r\n'), 'inbound', true, 0);
  t.same(v && [v.action, v.by, v.ban], ['drop', { kind: 'payload', name: 'no-passwd' }, { durationMs: 3_600_000 }]);
  const hex = m.check(segment(1, Buffer.from([0x41, 0xde, 0xad, 0xbe, 0xef]), { srcPort: 40001 }), 'inbound', true, 0);
  t.same(hex && [hex.action, hex.by.name, hex.ban], ['reject', 'magic', undefined]);
  t.equal(m.check(segment(1, "q=1 union\tselect", { srcPort: 40002 }), 'inbound', true, 0)?.by.name, 'sqli');
  t.equal(m.check(segment(1, 'GET / HTTP/1.1', { srcPort: 40003 }), 'inbound', true, 0), null);
  t.equal(m.check(segment(1, 'GET /etc/passwd', { dstPort: 81, srcPort: 40004 }), 'inbound', true, 0), null, 'port not watched');
});

t.test('split across two and three segments', async (t) => {
  t.same(stream(matcher(PASSWD), [[1000, 'GET /etc/pa'], [1011, 'sswd HTTP/1.1']]), [null, 'no-passwd']);
  t.same(stream(matcher(PASSWD), [[1000, 'GET /et'], [1007, 'c/pas'], [1012, 'swd']]), [null, null, 'no-passwd']);
  t.same(stream(matcher(PASSWD), [[1000, '/'], [1001, 'etc/passw'], [1010, 'd']]), [null, null, 'no-passwd'], 'one byte at each end');
  const re = matcher([{ name: 're', protocol: 'tcp', ports: [80], pattern: { regex: 'pass+wd' }, action: 'drop' }]);
  t.same(stream(re, [[1000, 'xx pa'], [1005, 'ssss'], [1009, 'wd']]), [null, null, 're']);
});

t.test('a retransmission does not duplicate bytes (no false match)', async (t) => {
  const m = matcher([{ name: 'abcabc', protocol: 'tcp', ports: [80], pattern: { text: 'abcabc' }, action: 'drop' }]);
  t.same(stream(m, [[1000, 'abc'], [1000, 'abc'], [1003, 'xyz']]), [null, null, null]);
});

t.test('an overlapping segment is searched for its new bytes, joined to the window', async (t) => {
  const m = matcher([{ name: 'abcdef', protocol: 'tcp', ports: [80], pattern: { text: 'abcdef' }, action: 'drop' }]);
  t.same(stream(m, [[1000, 'abcd'], [1002, 'cdef']]), [null, 'abcdef']);
  const k = matcher([{ name: 'kept', protocol: 'tcp', ports: [80], pattern: { text: 'abXY' }, action: 'drop' }]);
  // Linux keeps the first copy of overlapping bytes: the receiver's stream is "abcd" + "ef", not "abXYef".
  t.same(stream(k, [[1000, 'abcd'], [1002, 'XYef']]), [null, null], 'rewritten old bytes are not what the receiver keeps');
});

t.test('a segment beyond a gap is dropped, not searched alone; in order again, the match is found', async (t) => {
  // The naive concatenation "xa" + "b" would contain "ab": a false match.
  const m = matcher([{ name: 'ab', protocol: 'tcp', ports: [80], pattern: { text: 'ab' }, action: 'drop' }]);
  t.same(stream(m, [[1000, 'xa'], [1004, 'b'], [1002, 'yy'], [1004, 'b']]), [null, 'out-of-order', null, null]);
  // Reordering must not hide a split pattern: the second half first, then the first half.
  const p = matcher(PASSWD);
  t.same(stream(p, [[1011, 'sswd'], [1000, 'GET /etc/pa'], [1011, 'sswd']]), ['out-of-order', null, 'no-passwd']);
});

t.test('the window does not grow with the stream', async (t) => {
  const m = matcher(PASSWD);
  stream(m, []);
  let seq = 1000;
  let verdicts = 0;
  for (let i = 0; i < 2000; i++) {
    const data = `chunk ${i} `.padEnd(100, '.');
    if (m.check(segment(seq, data), 'inbound', true, 0) !== null) verdicts++;
    seq += data.length;
  }
  t.equal(verdicts, 0);
  const flows = m.flows.v4;
  const probe = segment(seq, '');
  const s = flows.get(flowKey(probe, probe.l4 as TcpHeader), 0);
  t.equal(flows.stride, '/etc/passwd'.length - 1, 'each window is carry bytes');
  t.equal(flows.windowLength[s], '/etc/passwd'.length - 1, 'and this one is full');
  t.equal(flows.seen[s], 200_000);
  t.equal(m.check(segment(seq, 'GET /etc/passwd'), 'inbound', true, 0)?.by.name, 'no-passwd', 'still inspecting');
});

t.test('the flow table is capped: the least recently seen flow loses its state', async (t) => {
  const m = matcher(PASSWD, { maxFlows: 2, flowIdleMs: 300_000 });
  m.check(segment(1000, 'GET /etc/pa', { srcPort: 1 }), 'inbound', true, 0);
  m.check(segment(1000, 'GET /etc/pa', { srcPort: 2 }), 'inbound', true, 0);
  m.check(segment(1011, 'x', { srcPort: 1 }), 'inbound', true, 0);
  m.check(segment(1000, 'GET /etc/pa', { srcPort: 3 }), 'inbound', true, 0);
  t.equal(m.flows.size, 2);
  t.equal(m.flows.evictions, 1);
  t.equal(m.check(segment(1011, 'sswd', { srcPort: 3 }), 'inbound', true, 0)?.by.name, 'no-passwd', 'a kept flow still joins segments');
  t.equal(m.check(segment(1012, 'sswd', { srcPort: 1 }), 'inbound', true, 0), null, 'flow 1, seen after flow 2, was kept (no match: its window ends in "x")');
  t.equal(m.check(segment(1011, 'sswd', { srcPort: 2 }), 'inbound', true, 0), null, 'flow 2 was evicted and starts over (the documented limit)');
});

t.test('idle flows expire lazily', async (t) => {
  const m = matcher(PASSWD, { maxFlows: 10, flowIdleMs: 1000 });
  m.check(segment(1000, 'GET /etc/pa'), 'inbound', true, 0);
  t.equal(m.check(segment(1011, 'sswd'), 'inbound', true, 1000)?.by.name, 'no-passwd', 'within the timeout');
  m.check(segment(1000, 'GET /etc/pa', { srcPort: 2 }), 'inbound', true, 0);
  t.equal(m.check(segment(1011, 'sswd', { srcPort: 2 }), 'inbound', true, 1001), null, 'past it, the state is gone');
  m.sweep(5000);
  t.equal(m.flows.size, 0);
});

t.test('FIN and RST end the state when in order, not otherwise', async (t) => {
  const m = matcher(PASSWD);
  stream(m, [[1000, 'hello']]);
  t.equal(m.flows.size, 1);
  m.check(segment(1005, 'bye', { flags: TCP_ACK | TCP_FIN }), 'inbound', true, 0);
  t.equal(m.flows.size, 0, 'in-order FIN with data');
  stream(m, [[1000, 'GET /etc/pa']]);
  m.check(segment(900, '', { flags: TCP_RST }), 'inbound', true, 0);
  m.check(segment(2000, '', { flags: TCP_ACK | TCP_FIN }), 'inbound', true, 0);
  t.equal(m.flows.size, 1, 'an old RST and a FIN beyond a gap end nothing');
  t.equal(m.check(segment(1011, 'sswd'), 'inbound', true, 0)?.by.name, 'no-passwd', 'so the window survived');
  stream(m, [[1000, 'x']]);
  m.check(segment(1001, '', { flags: TCP_RST }), 'inbound', true, 0);
  t.equal(m.flows.size, 0, 'in-order RST');
});

t.test('a blocked flow stays blocked, without a second ban; a SYN inside it changes nothing', async (t) => {
  const m = matcher(PASSWD);
  t.same(stream(m, [[1000, '/etc/passwd'], [1011, 'harmless']]), ['no-passwd', 'no-passwd']);
  const again = m.check(segment(1011, 'harmless'), 'inbound', true, 0);
  t.equal(again?.action, 'drop');
  t.equal(again?.ban, undefined);
  t.equal(m.check(tcp({ seq: 5000 }), 'inbound', true, 0)?.action, 'drop', 'an established SYN does not unblock');
  t.equal(m.check(tcp({ seq: 5000 }), 'inbound', false, 0), null, 'a new connection on the same ports starts afresh');
  t.equal(m.check(segment(5001, 'harmless'), 'inbound', true, 0), null);
});

t.test('an established SYN does not reset the window', async (t) => {
  const m = matcher(PASSWD);
  stream(m, [[1000, 'GET /etc/pa']]);
  t.equal(m.check(tcp({ seq: 50_000, payload: 'x' }), 'inbound', true, 0), null);
  t.equal(m.check(segment(1011, 'sswd'), 'inbound', true, 0)?.by.name, 'no-passwd');
});

t.test('data on a SYN (TCP Fast Open) is inspected and counted', async (t) => {
  const m = matcher(PASSWD);
  t.equal(m.check(tcp({ seq: 999, payload: 'GET /etc/pa', flags: TCP_SYN }), 'inbound', false, 0), null);
  t.equal(m.check(segment(1011, 'sswd', { flags: TCP_ACK | TCP_PSH }), 'inbound', true, 0)?.by.name, 'no-passwd');
  t.equal(matcher(PASSWD).check(tcp({ seq: 1, payload: '/etc/passwd' }), 'inbound', false, 0)?.by.name, 'no-passwd');
});

t.test('UDP: each datagram on its own', async (t) => {
  const m = matcher([{ name: 'dns-bad', protocol: 'udp', ports: [53], pattern: { text: 'evil' }, action: 'reject' }]);
  t.equal(m.check(udp({ payload: 'an evil query' }), 'inbound', false, 0)?.action, 'reject');
  t.equal(m.check(udp({ payload: 'ev', srcPort: 2 }), 'inbound', true, 0), null);
  t.equal(m.check(udp({ payload: 'il', srcPort: 2 }), 'inbound', true, 0), null, 'no joining across datagrams');
  t.equal(m.check(tcp({ dstPort: 53, payload: 'evil' }), 'inbound', false, 0), null, 'a udp rule ignores tcp');
  t.equal(m.flows.size, 0, 'no flow state for UDP');
});

t.test('direction: a rule sees its direction only; outbound rules watch the destination port and never ban', async (t) => {
  const m = matcher([
    ...PASSWD,
    { name: 'leak', direction: 'outbound', protocol: 'tcp', ports: [25], pattern: { text: 'SECRET' }, action: 'drop', ban: '1h' },
  ]);
  t.equal(m.check(segment(1, '/etc/passwd'), 'outbound', true, 0), null);
  t.equal(m.check(segment(1, 'SECRET', { dstPort: 25 }), 'inbound', true, 0), null);
  const v = m.check(segment(1, 'the SECRET', { src: V4.server, dst: V4.client, dstPort: 25 }), 'outbound', true, 0);
  t.same(v && [v.action, v.by.name, v.ban], ['drop', 'leak', undefined]);
});

t.test('depth counts payload bytes from the first: a match counts when it starts within them, even across the limit', async (t) => {
  const early = (depth: number): Rules => [{ name: 'early', protocol: 'tcp', localPorts: [80], pattern: { text: 'BAD' }, action: 'drop', depth }];
  t.same(stream(matcher(early(10)), [[1000, '12345678'], [1008, 'BAD']]), [null, 'early'], 'starts at byte 8 of 10, ends past it');
  t.same(stream(matcher(early(10)), [[1000, '123456789BAD']]), ['early'], 'byte 9, in one segment');
  t.same(stream(matcher(early(10)), [[1000, '1234567890BAD']]), ['inspected'], 'byte 10, in the same segment: past the depth, and the flow is done');
  t.same(stream(matcher(early(10)), [[1000, '1234567890'], [1010, 'BAD']]), [null, 'inspected'], 'byte 10 in a later segment: not caught (and not done after 10 bytes: a match could still have started at 8 or 9)');
  // The cases: depth 16 and 300, patterns at payload bytes 0, 200 and 290 (crossing 300).
  const at = (offset: number) => 'x'.repeat(offset) + 'BAD' + 'y'.repeat(20);
  t.same(stream(matcher(early(16)), [[1000, at(0)]]), ['early'], 'depth 16, at 0');
  t.same(stream(matcher(early(16)), [[1000, at(200)]]), ['inspected'], 'depth 16, at 200: passes');
  t.same(stream(matcher(early(300)), [[1000, at(200)]]), ['early'], 'depth 300, at 200');
  t.same(stream(matcher(early(300)), [[1000, at(0).slice(0, 290) + 'x'.repeat(0)], [1290, 'BAD']]).at(-1), 'early', 'depth 300, at 290 in a later segment');
  t.same(stream(matcher(early(300)), [[1000, 'x'.repeat(298) + 'BA'], [1300, 'D!']]), [null, 'early'], 'depth 300, starting at 298 and crossing the limit and a segment boundary');
  t.same(stream(matcher(early(300)), [[1000, 'x'.repeat(300)], [1300, 'BAD']]), [null, 'inspected'], 'depth 300, at 300: passes');
});

t.test('a flow is done only when every rule watching it is past its depth', async (t) => {
  const rules: Rules = [
    { name: 'short', protocol: 'tcp', localPorts: [80], pattern: { text: 'A' }, action: 'drop', depth: 4 },
    { name: 'long', protocol: 'tcp', localPorts: [80], pattern: { text: 'B' }, action: 'drop', depth: 8 },
  ];
  t.same(stream(matcher(rules), [[1000, 'xxxx'], [1004, 'xxxx']]), [null, 'inspected'], 'after 8 bytes no 1-byte pattern can start within its depth');
  t.same(stream(matcher([...rules, { name: 'whole', protocol: 'tcp', localPorts: [80], pattern: { text: 'C' }, action: 'drop' }]), [[1000, 'x'.repeat(50)]]), [null], 'a rule without depth watches the whole flow');
  const done = matcher(rules).check(segment(1000, 'x'.repeat(9)), 'inbound', true, 0);
  t.same(done && [done.action, done.done], ['accept', true], 'done is an accept the kernel can act on');
});

t.test('ports by side: an outbound rule on localPorts sees what the application on that port sends', async (t) => {
  const leak: Rules = [{ name: 'leak', direction: 'outbound', protocol: 'tcp', localPorts: [2222], pattern: { text: 'SECRET-LEAK' }, action: 'reject' }];
  const m = matcher(leak);
  // The application's reply: from port 2222 to the client's port.
  const reply = (seq: number, data: string) => segment(seq, data, { srcPort: 2222, dstPort: 40000 });
  m.check(tcp({ seq: 999, srcPort: 2222, dstPort: 40000, flags: TCP_SYN | TCP_ACK }), 'outbound', false, 0);
  t.equal(m.check(reply(1000, 'hello benign\n'), 'outbound', true, 0), null);
  const v = m.check(reply(1013, 'SECRET-LEAK token=42\n'), 'outbound', true, 0);
  t.same(v && [v.action, v.by.name, v.kill], ['reject', 'leak', true], 'a TCP reject kills the connection');
  t.equal(m.check(segment(1, 'SECRET-LEAK', { srcPort: 40000, dstPort: 2222 }), 'outbound', true, 0), null, 'a connection this server opened to a remote 2222 is not this rule\'s');
  t.equal(m.check(reply(1, 'SECRET-LEAK'), 'inbound', true, 0), null, 'nor inbound traffic');
  const remote = matcher([{ name: 'to-2222', direction: 'outbound', protocol: 'tcp', remotePorts: [2222], pattern: { text: 'X' }, action: 'drop' }]);
  t.equal(remote.check(segment(1, 'X', { srcPort: 40000, dstPort: 2222 }), 'outbound', true, 0)?.by.name, 'to-2222', 'remotePorts: connections to a remote 2222');
  const alias = matcher([{ name: 'alias', direction: 'outbound', protocol: 'tcp', ports: [2222], pattern: { text: 'X' }, action: 'drop' }]);
  t.equal(alias.check(segment(1, 'X', { srcPort: 40000, dstPort: 2222 }), 'outbound', true, 0)?.by.name, 'alias', 'ports is the destination: outbound, the remote port');
  t.same(matcher([{ name: 'd', protocol: 'tcp', localPorts: [80], pattern: { text: 'X' }, action: 'drop' }]).check(segment(1, 'X'), 'inbound', true, 0)?.kill, undefined, 'drop never kills');
});

t.test('a blocked flow lets a bare reset through (the kill that ends it), nothing else', async (t) => {
  const m = matcher([{ name: 'x', protocol: 'tcp', localPorts: [80], pattern: { text: 'BAD' }, action: 'reject' }]);
  t.same(stream(m, [[1000, 'BAD'], [1003, 'more']]), ['x', 'x'], 'blocked');
  t.equal(m.check(segment(1003, 'RST with data', { flags: TCP_RST | TCP_ACK }), 'inbound', true, 0)?.by.name, 'x', 'a reset carrying data is still blocked');
  t.equal(m.check(segment(1003, '', { flags: TCP_RST | TCP_ACK }), 'inbound', true, 0), null, 'a bare reset passes');
});

t.test('log rules accept and log once; a drop rule wins over a log rule', async (t) => {
  const rules: Rules = [
    { name: 'watch', protocol: 'tcp', ports: [80], pattern: { regex: 'admin' }, action: 'log' },
    { name: 'block', protocol: 'tcp', ports: [80], pattern: { text: 'admin/delete' }, action: 'drop' },
  ];
  const m = matcher(rules);
  m.check(tcp({ seq: 999 }), 'inbound', false, 0);
  const v = m.check(segment(1000, 'GET /admin/'), 'inbound', true, 0);
  t.same(v && [v.action, v.log, v.by.name], ['accept', true, 'watch']);
  t.equal(m.check(segment(1011, 'index'), 'inbound', true, 0), null, 'the logged bytes are not reported again');
  t.equal(matcher(rules).check(segment(1, 'GET /admin/delete'), 'inbound', true, 0)?.by.name, 'block');
});
