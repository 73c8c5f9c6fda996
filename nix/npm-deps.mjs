#!/usr/bin/env node
// The npm dependencies of package-lock.json for Nix, whose fetchers cannot follow our lock (it has no
// `resolved` URLs: nixpkgs' fetchNpmDeps and importNpmLock skip such entries).
//
//   node npm-deps.mjs fetch package-lock.json OUT
//     Every locked package as the registry's own tarball (`npm pack`, npm's default registry), each
//     checked against the lock's `integrity`, written as OUT/<name>-<version>.tgz ("/" of a scoped
//     name as "+"): nothing else, so the directory's `nix hash path` depends on the lock alone. Run
//     by nix/npm-deps.nix (a fixed-output derivation) and by tests/nix/npm-deps.test.ts.
//
//   node npm-deps.mjs localize package-lock.json DEPS
//     Rewrites the lock in place so every entry resolves to its tarball in DEPS (file: URLs): then
//     `npm ci --offline` installs from DEPS alone. Run by nix/package.nix on its copy of the lock.
//
//   node npm-deps.mjs forget DEPS node_modules
//     Removes what npm wrote of DEPS into an installed tree (node_modules/.package-lock.json, its
//     `resolved` paths), then fails naming any file that still mentions DEPS: the installed agent
//     must not keep the tarballs in its closure. Run by nix/package.nix after `npm prune`.
//
//   node npm-deps.mjs pin package-lock.json PIN
//     Fetches as `fetch` does into a temporary directory, and writes PIN (nix/npm-deps.json): the
//     lock's sha256 and the output's hash (`nix hash path`), what nix/npm-deps-pin.nix checks.
//     `npm run nix:pin-deps` after every change of package-lock.json.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const [command, first, second] = process.argv.slice(2);
if (!['fetch', 'localize', 'forget', 'pin'].includes(command) || !first || !second) {
  process.stderr.write('usage: npm-deps.mjs fetch package-lock.json OUT | localize package-lock.json DEPS | forget DEPS node_modules | pin package-lock.json PIN\n');
  process.exit(2);
}
const lock = command === 'forget' ? null : JSON.parse(readFileSync(first, 'utf8'));

/** The installed entries of the lock (links, bundled ones and the root excluded), with their name. */
function lockedEntries() {
  const out = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path === '' || entry.link || entry.inBundle || !entry.version) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!entry.integrity) throw new Error(`package-lock.json ${path}: no integrity`);
    out.push({ entry, name, spec: `${name}@${entry.version}`, file: `${name.replace('/', '+')}-${entry.version}.tgz` });
  }
  return out;
}

function fetchAll(out) {
  const bySpec = new Map(lockedEntries().map((e) => [e.spec, e]));
  const specs = [...bySpec.keys()].sort();
  const work = mkdtempSync(join(tmpdir(), 'vpsfw-npm-deps-'));
  try {
    // npm pack writes the registry's tarball byte for byte; batches keep the command line short.
    for (let i = 0; i < specs.length; i += 100) {
      execFileSync('npm', ['pack', '--silent', '--pack-destination', work, ...specs.slice(i, i + 100)], { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    mkdirSync(out, { recursive: true });
    const packed = new Set(readdirSync(work));
    for (const spec of specs) {
      const { name, entry, file } = bySpec.get(spec);
      // npm pack's own name: the scope's "@" dropped and its "/" as "-", which can collide; ours cannot.
      const packedName = `${name.replace(/^@/, '').replace('/', '-')}-${entry.version}.tgz`;
      if (!packed.has(packedName)) throw new Error(`npm pack did not write ${packedName} for ${spec}`);
      const [algo, expected] = entry.integrity.split(' ')[0].split(/-(.*)/s);
      const actual = createHash(algo).update(readFileSync(join(work, packedName))).digest('base64');
      if (actual !== expected) throw new Error(`${spec}: ${algo} ${actual} does not match the lock's ${expected}`);
      renameSync(join(work, packedName), join(out, file));
    }
    process.stderr.write(`npm-deps: ${specs.length} packages checked against the lock\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function localize(lockPath, deps) {
  for (const { entry, file } of lockedEntries()) entry.resolved = `file:${join(deps, file)}`;
  writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
}

/** Every file under dir (symlinks not followed: they are links, not content). */
function* filesUnder(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) yield* filesUnder(path);
    else if (e.isFile()) yield path;
  }
}

function forget(deps, nodeModules) {
  rmSync(join(nodeModules, '.package-lock.json'), { force: true });
  // The store path's name holds its hash, which is what Nix looks for in an output.
  const needle = Buffer.from(basename(deps));
  const left = [...filesUnder(nodeModules)].filter((f) => readFileSync(f).includes(needle));
  if (left.length > 0) throw new Error(`still mention ${deps}: ${left.join(', ')}`);
}

function pin(lockPath, pinPath) {
  const work = mkdtempSync(join(tmpdir(), 'vpsfw-npm-pin-'));
  try {
    const out = join(work, 'deps');
    fetchAll(out);
    const hash = execFileSync('nix', ['--extra-experimental-features', 'nix-command', 'hash', 'path', '--type', 'sha256', '--sri', out], { encoding: 'utf8' }).trim();
    const lockHash = createHash('sha256').update(readFileSync(lockPath)).digest('hex');
    writeFileSync(pinPath, `${JSON.stringify({ lock: lockHash, hash }, null, 2)}\n`);
    process.stderr.write(`npm-deps: ${pinPath} pins ${hash} for this package-lock.json\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (command === 'fetch') fetchAll(second);
else if (command === 'localize') localize(first, second);
else if (command === 'forget') forget(first, second);
else pin(first, second);
