// `vpsfw render`: the kernel documents by family, as JSON, or the policy document itself.
import t from 'tap';
import { join } from 'node:path';
import render from '../../../agent/src/cli/render.js';
import { defaultPolicyDocument } from '../../../agent/src/policy/defaults.js';
import { writeBadPolicies } from '../../lib/bad-policies.js';
import { captureIo } from '../../lib/io.js';

const policy = { version: 1, denyNetworks: ['203.0.113.0/24', '2001:db8:bad::/48'] };

t.test('both families by default; one with --family', async (t) => {
  const dir = t.testdir({ 'p.json': JSON.stringify(policy) });
  const both = captureIo();
  t.equal(await render(['--policy', join(dir, 'p.json')], both), 0);
  t.match(both.stdout, /IPv4[\s\S]*\*filter[\s\S]*IPv6[\s\S]*icmp6-port-unreachable/);
  const v4 = captureIo();
  await render(['--policy', join(dir, 'p.json'), '--family', '4'], v4);
  t.notMatch(v4.stdout, /ip6tables-restore/);
  t.match(v4.stdout, /add vpsfw-deny4-new 203\.0\.113\.0\/24/);
});

t.test('--format json is the plan; --format policy is the document', async (t) => {
  const io = captureIo();
  await render(['--format', 'json'], io);
  t.match(JSON.parse(io.stdout), { ipv4: /\*filter/, ipv6: /\*filter/, ipset: /create vpsfw-ban4/ });
  const doc = captureIo();
  const cwd = process.cwd();
  process.chdir(t.testdir({}));
  t.teardown(() => process.chdir(cwd));
  await render(['--format', 'policy'], doc);
  t.same(JSON.parse(doc.stdout), defaultPolicyDocument, 'the built-in default policy, as a file to start from');
});

t.test('nested 10,000 and 100,000 deep, a 20 MB value: refused with the field and a short value', async (t) => {
  for (const bad of writeBadPolicies(t.testdir({}))) {
    const err = (await render(['--policy', bad.file], captureIo()).catch((e: unknown) => e)) as Error & { code?: string };
    t.equal(err.code, 'VPSFW_ERR_POLICY_INVALID', bad.name);
    t.match(err.message.split('\n')[1], bad.line, bad.name);
    t.ok(err.message.length < 500, `${bad.name}: short`);
  }
});

t.test('bad options are usage errors that name the value', async (t) => {
  await t.rejects(render(['--family', '5'], captureIo()), { code: 'VPSFW_ERR_USAGE', message: /"5"/ });
  await t.rejects(render(['--format', 'xml'], captureIo()), { code: 'VPSFW_ERR_USAGE', message: /"xml"/ });
});
