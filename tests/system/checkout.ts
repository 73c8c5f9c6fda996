// The repository as a clone of it has it: the files git tracks (and new ones not yet committed that
// it does not ignore), none of what a build or `npm ci` made (agent/dist, node_modules,
// agent/native/build). The system tests install and run from this, as a user would.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '..', '..');

/** A copy of the checkout's files in a new directory named `vpsfw`; returns its path. */
export function plainCheckout(t: { teardown(fn: () => void): void }): string {
  const parent = mkdtempSync(join(tmpdir(), 'vpsfw-checkout-'));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  const listed = execFileSync('git', ['-C', REPO, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8' });
  // A tracked file deleted in the work tree is not part of it.
  const files = listed.split('\0').filter((f) => f && existsSync(join(REPO, f)));
  const dest = join(parent, 'vpsfw');
  mkdirSync(dest);
  execFileSync('sh', ['-c', 'tar -C "$1" --null -T - -cf - | tar -C "$2" -xf -', 'sh', REPO, dest], { input: files.join('\0') });
  return dest;
}
