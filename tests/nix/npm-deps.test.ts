// nix/npm-deps.json pins the fixed-output derivation nix/npm-deps.nix to one package-lock.json: the
// lock's sha256 and the output's hash, recomputed here the way the derivation computes it (the same
// script, then `nix hash path`). And the package's install leaves no trace of that output in the
// installed tree (`forget`), which is what keeps the tarballs out of the runtime closure.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const REPO = new URL('../../', import.meta.url).pathname;
const SCRIPT = join(REPO, 'nix/npm-deps.mjs');
const pin = JSON.parse(readFileSync(join(REPO, 'nix/npm-deps.json'), 'utf8')) as { lock: string; hash: string };
const hasNix = spawnSync('nix', ['--version']).status === 0;
const UPDATE = 'run `npm run nix:pin-deps` and commit nix/npm-deps.json';
// Fetching every tarball of the lock takes minutes on a fresh machine with an empty npm cache.
t.setTimeout(1_200_000);

t.test('nix/npm-deps.json is pinned to this package-lock.json', async (t) => {
  const lockHash = createHash('sha256').update(readFileSync(join(REPO, 'package-lock.json'))).digest('hex');
  t.equal(pin.lock, lockHash, `the lock moved on without its pin: ${UPDATE}`);
});

t.test('the pinned hash, and an install that forgets where its tarballs came from', { skip: hasNix ? false : 'no `nix` command (Debian: nix-bin)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-deps-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fetched = join(dir, 'fetched');
  execFileSync(process.execPath, [SCRIPT, 'fetch', join(REPO, 'package-lock.json'), fetched], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
  const hash = execFileSync('nix', ['--extra-experimental-features', 'nix-command', 'hash', 'path', '--type', 'sha256', '--sri', fetched], { encoding: 'utf8' }).trim();
  t.equal(pin.hash, hash, `nix/npm-deps.json's hash is stale (${hash}): ${UPDATE}`);

  // As nix/package.nix installs: the lock pointed at the tarballs, `npm ci` offline, prune, forget.
  // The directory's name stands for the store path's hash, which Nix would find in the output.
  const deps = join(dir, `deps-${randomBytes(16).toString('hex')}`);
  renameSync(fetched, deps);
  const project = join(dir, 'project');
  mkdirSync(project);
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(REPO, f), join(project, f));
  execFileSync(process.execPath, [SCRIPT, 'localize', join(project, 'package-lock.json'), deps]);
  // No user configuration, as in the build sandbox: neither ~/.npmrc nor the npm_config_* that npm
  // hands the processes it runs (either may tell npm to leave `resolved` out).
  writeFileSync(join(dir, 'npmrc'), '');
  const inherited = Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_'));
  const env = { ...Object.fromEntries(inherited), npm_config_userconfig: join(dir, 'npmrc'), npm_config_cache: join(dir, 'cache'), npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  const npm = (args: string[]) => execFileSync('npm', args, { cwd: project, env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
  npm(['ci', '--ignore-scripts', '--loglevel=error']);
  npm(['prune', '--omit=dev', '--loglevel=error']);
  const hidden = join(project, 'node_modules/.package-lock.json');
  // npm writes them relative to the project (file:../../nix/store/<hash>-…): the name is there.
  t.ok(readFileSync(hidden, 'utf8').includes(basename(deps)), 'npm recorded the tarballs (what the check is for)');

  const forget = () => spawnSync(process.execPath, [SCRIPT, 'forget', deps, join(project, 'node_modules')], { encoding: 'utf8' });
  const clean = forget();
  t.equal(clean.status, 0, clean.stderr);
  t.notOk(existsSync(hidden), 'the record is gone');
  t.ok(existsSync(join(project, 'node_modules/zod/package.json')), 'the dependencies stay');

  writeFileSync(join(project, 'node_modules/zod/left.txt'), `from ${deps}/zod.tgz\n`);
  const left = forget();
  t.not(left.status, 0, 'a file that still names the tarballs fails the build');
  t.match(left.stderr, /still mention .*zod\/left\.txt/);
});
