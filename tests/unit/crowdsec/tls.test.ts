// An https LAPI is verified against the CA store the agent's Node is given: the unit's
// NODE_EXTRA_CA_CERTS (agent/packaging/node-options.json) names the system bundle, so a LAPI whose
// certificate a CA in that bundle signed is trusted, and one it did not sign is refused with a
// clear error. Here a test CA stands in for the bundle; the client runs in a child Node with it.
import t from 'tap';
import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = mkdtempSync(join(tmpdir(), 'vpsfw-tls-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=vpsfw test CA']);
ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'lapi.key', '-out', 'lapi.csr', '-subj', '/CN=127.0.0.1']);
execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1\\n" > ext.cnf && openssl x509 -req -in lapi.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out lapi.pem -days 2 -extfile ext.cnf'], { cwd: dir, stdio: 'ignore' });

const client = fileURLToPath(new URL('../../../agent/src/crowdsec/lapi-client.ts', import.meta.url));
const CHILD = `
const { LapiClient } = await import(${JSON.stringify(client)});
const c = new LapiClient({ url: process.argv[1], timeoutMs: 5000, userAgent: 'vpsfw/test' });
try { console.log(JSON.stringify(await c.login('web1', 'pw', []))); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
`;

function inChild(url: string, env: Record<string, string>): Promise<{ token?: string; code?: string; message?: string }> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [...process.execArgv, '--input-type=module', '-e', CHILD, url], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`child failed: ${err?.message} ${stderr}`));
      }
    }),
  );
}

t.test('trusted through the CA bundle, refused without it', async (t) => {
  const server = createServer({ key: readFileSync(join(dir, 'lapi.key')), cert: readFileSync(join(dir, 'lapi.pem')) }, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"code":200,"expire":"2099-01-01T00:00:00Z","token":"jwt"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  t.match(await inChild(url, { NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') }), { token: 'jwt' }, 'a certificate the bundle vouches for');
  t.match(await inChild(url, {}), { code: 'VPSFW_ERR_CROWDSEC_UNREACHABLE', message: /POST https:\/\/127\.0\.0\.1:\d+\/v1\/watchers\/login: no answer \(.*(certificate|SELF_SIGNED|UNABLE_TO_VERIFY)/i }, 'one it does not: refused, and the error says why');
});
