// The policy's crowdsec section: secrets only as absolute file paths, an http(s) URL, at least one
// of the two roles, and the defaults the follower and the reporter run with.
import t from 'tap';
import { parsePolicy } from '../../../agent/src/policy/load.js';
import { policyIssues as issues } from '../../lib/policy-issues.js';


t.test('defaults', async (t) => {
  const p = parsePolicy({ version: 1, crowdsec: { url: 'http://198.18.0.1:8080/', bouncerKeyFile: '/run/credentials/vpsfw.service/crowdsec-bouncer-key' } }, 'test').policy;
  t.same(p.crowdsec, { url: 'http://198.18.0.1:8080/', bouncerKeyFile: '/run/credentials/vpsfw.service/crowdsec-bouncer-key', pollInterval: 10_000, backoffMax: 300_000, timeout: 30_000, reportBacklog: 10_000 });
  t.equal(parsePolicy({ version: 1 }, 'test').policy.crowdsec, undefined, 'absent by default: no CrowdSec');
});

t.test('refused: each names the field and the value', async (t) => {
  t.match(issues({ version: 1, crowdsec: { url: 'ftp://lapi/', bouncerKeyFile: '/k' } }), [{ path: 'crowdsec.url', value: 'ftp://lapi/' }]);
  t.match(issues({ version: 1, crowdsec: { url: 'http://lapi/', bouncerKeyFile: 'key.txt' } }), [{ path: 'crowdsec.bouncerKeyFile', message: /absolute/, value: 'key.txt' }]);
  t.match(issues({ version: 1, crowdsec: { url: 'http://lapi/', machine: { login: 'web1', passwordFile: 'pw' } } }), [{ path: 'crowdsec.machine.passwordFile', value: 'pw' }]);
  t.match(issues({ version: 1, crowdsec: { url: 'http://lapi/' } }), [{ path: 'crowdsec', message: /bouncerKeyFile .* machine/ }]);
  t.match(issues({ version: 1, crowdsec: { url: 'http://lapi/', bouncerKey: 'inline-secret' } }), [{ path: 'crowdsec', message: /bouncerKey/ }], 'no inline key');
  t.match(issues({ version: 1, crowdsec: { url: 'http://lapi/', bouncerKeyFile: '/k', pollInterval: '10' } }), [{ path: 'crowdsec.pollInterval', value: '10' }]);
});

t.test('a machine alone (report only) is a valid section', async (t) => {
  const p = parsePolicy({ version: 1, crowdsec: { url: 'https://lapi.example.net:8080/', machine: { login: 'web1', passwordFile: '/etc/vpsfw/pw' } } }, 'test').policy;
  t.same(p.crowdsec?.machine, { login: 'web1', passwordFile: '/etc/vpsfw/pw' });
  t.equal(p.crowdsec?.bouncerKeyFile, undefined);
});
