// nix/npm-deps.hash is the hash of the fixed-output derivation nix/npm-deps.nix. It is recomputed
// here the way the derivation computes it (the same script, then `nix hash path`): the test fails
// when package-lock.json changed and the hash did not, before a Nix user's build does.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('../../', import.meta.url).pathname;

const hasNix = spawnSync('nix', ['--version']).status === 0;

t.test('nix/npm-deps.hash matches package-lock.json', { skip: hasNix ? false : 'no `nix` command (Debian: nix-bin)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-deps-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'deps');
  execFileSync(process.execPath, [join(REPO, 'nix/npm-deps.mjs'), 'fetch', join(REPO, 'package-lock.json'), out], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 });
  const hash = execFileSync('nix', ['--extra-experimental-features', 'nix-command', 'hash', 'path', '--type', 'sha256', '--sri', out], { encoding: 'utf8' }).trim();
  const recorded = readFileSync(join(REPO, 'nix/npm-deps.hash'), 'utf8').trim();
  t.equal(recorded, hash, `nix/npm-deps.hash is stale: write ${hash} into it`);
});
