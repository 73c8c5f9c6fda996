// Decisions as the LAPI streams them, mapped to what the agent enforces: Go durations read as Go
// prints them, Ip and Range in the form the kernel sets hold, everything else named and ignored.
import t from 'tap';
import { mapDecision, parseGoDuration } from '../../../agent/src/crowdsec/decision.js';

t.test("Go's durations", async (t) => {
  t.equal(parseGoDuration('3h59m59.308590513s'), 3 * 3_600_000 + 59 * 60_000 + 59_308.590513);
  t.equal(parseGoDuration('-13.556498ms'), -13.556498);
  t.equal(parseGoDuration('0s'), 0);
  t.equal(parseGoDuration('0'), 0);
  t.equal(parseGoDuration('1m0s'), 60_000);
  t.equal(parseGoDuration('500µs'), 0.5);
  t.equal(parseGoDuration('2h'), 7_200_000);
  for (const bad of ['', '-', '10', '1d', 'h', '1h 2m', 'abc', '4h0x']) t.equal(parseGoDuration(bad), null, `refused: ${JSON.stringify(bad)}`);
});

t.test('Ip and Range bans, v4 and v6', async (t) => {
  const d = (o: object) => ({ id: 1, origin: 'cscli', type: 'ban', scope: 'Ip', value: '192.0.2.7', duration: '59m58.3s', scenario: 'crowdsecurity/ssh-bf', ...o });
  t.same(mapDecision(d({})), { kind: 'ban', target: '192.0.2.7', remainingMs: 3_598_300, scenario: 'crowdsecurity/ssh-bf' });
  t.match(mapDecision(d({ value: '2001:DB8::5' })), { kind: 'ban', target: '2001:db8::5' }, 'v6 as the packets print it');
  t.match(mapDecision(d({ scope: 'ip' })), { kind: 'ban' }, 'scopes compared without case');
  t.match(mapDecision(d({ scope: 'Range', value: '203.0.113.77/24' })), { kind: 'ban', target: '203.0.113.0/24' }, 'a range as its network');
  t.match(mapDecision(d({ scope: 'Range', value: '2001:db8:bad::1/48' })), { kind: 'ban', target: '2001:db8:bad::/48' });
  t.match(mapDecision(d({ scope: 'Range', value: '198.51.100.9/32' })), { kind: 'ban', target: '198.51.100.9' }, 'a range of one address is that address');
  t.match(mapDecision(d({ duration: '-1.5s' })), { kind: 'ban', remainingMs: -1500 }, 'a deleted one has run out');
  t.match(mapDecision(d({ scenario: '' })), { kind: 'ban', scenario: 'cscli' }, 'no scenario: the origin names it');
});

t.test('what is not a firewall ban is ignored, and says what it was', async (t) => {
  const d = (o: object) => ({ type: 'ban', scope: 'Ip', value: '192.0.2.7', duration: '1h', scenario: 's', ...o });
  t.same(mapDecision(d({ type: 'captcha' })), { kind: 'ignored', what: 'type "captcha"', value: '192.0.2.7' });
  t.same(mapDecision(d({ scope: 'Username', value: 'bob' })), { kind: 'ignored', what: 'scope "Username"', value: 'bob' });
  t.match(mapDecision(d({ scope: 'Country', value: 'FR' })), { kind: 'ignored', what: 'scope "Country"' });
  t.match(mapDecision(d({ value: 'not-an-ip' })), { kind: 'ignored', what: /Ip value/ });
  t.match(mapDecision(d({ scope: 'Range', value: '10.0.0.0/33' })), { kind: 'ignored', what: /Range value/ });
  t.match(mapDecision(d({ duration: 'forever' })), { kind: 'ignored', what: 'duration that is not a Go duration' });
  t.match(mapDecision({}), { kind: 'ignored' }, 'an empty object');
});

t.test('ranges in the canonical form of the ban store', async (t) => {
  const range = (value: string) => mapDecision({ type: 'ban', scope: 'Range', value, duration: '1h' });
  t.match(range('192.0.2.200/25'), { target: '192.0.2.128/25' });
  t.match(range('2001:DB8::ffff/112'), { target: '2001:db8::/112' });
  t.match(range('2001:db8::1/128'), { target: '2001:db8::1' });
});

t.test('IPv4 as packets print it, whatever the decision wrote', async (t) => {
  const ip = (value: string) => mapDecision({ type: 'ban', scope: 'Ip', value, duration: '1h' });
  t.match(ip('192.0.2.7'), { target: '192.0.2.7' });
  t.match(ip('0.0.0.0'), { target: '0.0.0.0' });
  t.match(ip('255.255.255.255'), { target: '255.255.255.255' });
  t.match(ip('::ffff:192.0.2.7'), { target: '::ffff:192.0.2.7' }, 'a mapped address stays IPv6');
  t.match(ip('192.0.2.256'), { kind: 'ignored' });
  t.match(ip('192.0.2.07'), { kind: 'ignored' }, 'a leading zero is not an address (net.isIP)');
});
