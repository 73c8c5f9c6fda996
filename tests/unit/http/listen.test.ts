// The listener's address and who may connect: parsing, loopback, the refusal of a listener beyond
// loopback that the policy did not ask for (in the schema too), the browser's address, the units'
// IPAddressAllow.
import t from 'tap';
import { isLoopbackAddress, isLoopbackNetwork, listenRefusal, parseListen, peerAddress, unitIpAllow, urlOf } from '../../../agent/src/http/listen.js';
import { parsePolicy } from '../../../agent/src/policy/load.js';
import { PolicyInvalidError } from '../../../agent/src/errors.js';
import { parseCidr } from '../../../agent/src/policy/units.js';

const cidrs = (...l: string[]) => l.map((c) => parseCidr(c)!);

t.test('parseListen', async (t) => {
  t.same(parseListen('127.0.0.1:9469'), { host: '127.0.0.1', port: 9469, family: 4 });
  t.same(parseListen('[::1]:9469'), { host: '::1', port: 9469, family: 6 });
  t.same(parseListen('0.0.0.0:80'), { host: '0.0.0.0', port: 80, family: 4 });
  for (const bad of ['localhost:9469', '::1:9469', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '[127.0.0.1]:80', '300.0.0.1:80', ':9469', '127.0.0.1:80x']) t.equal(parseListen(bad), null, bad);
});

t.test('loopback', async (t) => {
  for (const a of ['127.0.0.1', '127.8.9.10', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) t.ok(isLoopbackAddress(a), a);
  for (const a of ['128.0.0.1', '::2', '0.0.0.0', '::', '192.0.2.1', '2001:db8::1']) t.notOk(isLoopbackAddress(a), a);
  t.equal(peerAddress('::ffff:192.0.2.1'), '192.0.2.1', 'a dual-stack socket\'s IPv4 peer');
  t.equal(peerAddress('2001:db8::1'), '2001:db8::1');
  t.ok(isLoopbackNetwork(parseCidr('127.0.0.0/8')!));
  t.notOk(isLoopbackNetwork(parseCidr('127.0.0.0/7')!), 'wider than loopback');
  t.notOk(isLoopbackNetwork(parseCidr('::/0')!));
});

t.test('beyond loopback only where the policy names who may connect', async (t) => {
  const wide = parseListen('0.0.0.0:9469')!;
  t.equal(listenRefusal(parseListen('127.0.0.1:9469')!, cidrs('127.0.0.0/8')), null);
  t.match(listenRefusal(wide, cidrs('127.0.0.0/8', '::1/128')), /http\.allowFrom/);
  t.equal(listenRefusal(wide, cidrs('127.0.0.0/8', '10.0.0.0/24')), null);
});

t.test('the schema refuses such a listener, naming http.listen', async (t) => {
  const err = t.throws(() => parsePolicy({ version: 1, http: { listen: '192.0.2.1:9469' } }, 'p')) as PolicyInvalidError;
  t.match(err.issues, [{ path: 'http.listen', message: /allowFrom/, value: '192.0.2.1:9469' }]);
  t.throws(() => parsePolicy({ version: 1, http: { listen: 'localhost:9469' } }, 'p'), { code: 'VPSFW_ERR_POLICY_INVALID' }, 'a host name is not an address');
  t.same(parsePolicy({ version: 1, http: { listen: '192.0.2.1:9469', allowFrom: ['192.0.2.0/24'] } }, 'p').policy.http.listen, { host: '192.0.2.1', port: 9469, family: 4 });
  const off = parsePolicy({ version: 1 }, 'p').policy.http;
  t.equal(off.listen, null, 'off by default');
  t.same(unitIpAllow(off.allowFrom), ['127.0.0.0/8', '::1/128'], 'this host only by default');
});

t.test('the address a browser on this host uses', async (t) => {
  t.equal(urlOf(parseListen('127.0.0.1:9469')!), 'http://127.0.0.1:9469/');
  t.equal(urlOf(parseListen('[::1]:9469')!), 'http://[::1]:9469/');
  t.equal(urlOf(parseListen('0.0.0.0:9469')!), 'http://127.0.0.1:9469/', 'every address: loopback is one');
  t.equal(urlOf(parseListen('[::]:9469')!), 'http://[::1]:9469/');
});
