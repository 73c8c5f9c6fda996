#!/usr/bin/env node
// For the offline build: points every package of package-lock.json at its tarball in DEPS (the
// output of fetch-npm-deps.mjs), so `npm ci --offline` installs from those files, integrity-checked,
// with no registry and no metadata requests. Rewrites the lock in place (a copy in the build tree).
//   node lock-with-tarballs.mjs package-lock.json DEPS
import { readFileSync, writeFileSync } from 'node:fs';

const [lockPath, deps] = process.argv.slice(2);
if (!lockPath || !deps) {
  process.stderr.write('usage: lock-with-tarballs.mjs package-lock.json DEPS\n');
  process.exit(2);
}
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (path === '' || entry.link || entry.inBundle || !entry.version) continue;
  const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
  entry.resolved = `file:${deps}/${name.replace('/', '+')}-${entry.version}.tgz`;
}
writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
