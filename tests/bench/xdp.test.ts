// The bench's XDP helpers that read tools' output and write bpftool's keys: which program an
// interface holds in which mode (from `ip -j link`), and addresses as map keys. Attaching is
// exercised by the ban-drop section of the benchmark (tests/bench/ban-drop.js).
import t from 'tap';
import { addressBytes, attachedProgram } from './xdp.js';

// `ip -j link show dev s1` of iproute2 6.1, generic program 80 attached.
const generic = '[{"ifindex":2,"ifname":"s1","xdp":{"mode":2,"prog":{"id":80,"name":"xdp_drop_banned","jited":1},"attached":[{"mode":2,"prog":{"id":80,"name":"xdp_drop_banned","jited":1}}]},"operstate":"UP"}]';

t.test('the program attached in a mode, and none in another', async (t) => {
  t.equal(attachedProgram(generic, 'generic'), 80);
  t.equal(attachedProgram(generic, 'native'), null);
  t.equal(attachedProgram('[{"ifindex":2,"ifname":"s1","operstate":"UP"}]', 'generic'), null, 'no xdp at all');
});

t.test('an older iproute2 that lists one program without attachments', async (t) => {
  t.equal(attachedProgram('[{"ifname":"s1","xdp":{"mode":1,"prog":{"id":7}}}]', 'native'), 7);
});

t.test('both modes at once: each found by its own mode', async (t) => {
  const both = '[{"ifname":"s1","xdp":{"mode":4,"attached":[{"mode":2,"prog":{"id":5}},{"mode":1,"prog":{"id":6}}]}}]';
  t.equal(attachedProgram(both, 'generic'), 5);
  t.equal(attachedProgram(both, 'native'), 6);
});

t.test('addresses as map keys, in network order', async (t) => {
  t.same(addressBytes('192.0.2.10'), [192, 0, 2, 10]);
  t.same(addressBytes('2001:db8:1::10'), [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]);
  t.same(addressBytes('::1'), [...Array(15).fill(0), 1]);
  t.same(addressBytes('::'), Array(16).fill(0));
  t.same(addressBytes('fe80:0:0:0:aa:bb:cc:dd'), [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0xaa, 0, 0xbb, 0, 0xcc, 0, 0xdd]);
  t.same(addressBytes('2001:db8::'), [0x20, 0x01, 0x0d, 0xb8, ...Array(12).fill(0)]);
});

t.test('what is not an address is refused by name', async (t) => {
  t.throws(() => addressBytes('192.0.2.300'), /address: .*got 192\.0\.2\.300/);
  t.throws(() => addressBytes('::ffff:192.0.2.1'), /got ::ffff:192\.0\.2\.1/, 'an embedded IPv4 tail');
});
