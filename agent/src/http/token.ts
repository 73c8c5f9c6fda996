// The HTTP listener's one secret: a random token kept in the state directory (mode 0600, made
// once, kept across restarts so scrapers and bookmarks keep working). `vpsfw dashboard` prints it
// in the dashboard's address; Prometheus sends it as a bearer token. Random bytes come from
// /dev/urandom and tokens are compared without node:crypto: it would cost the agent 2 MiB to load.
import { closeSync, openSync, readSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { VpsfwError } from '../errors.js';

export const TOKEN_FILE = 'http-token';
const TOKEN = /^[A-Za-z0-9_-]{32,256}$/;

export const tokenPath = (stateDir: string) => join(stateDir, TOKEN_FILE);

/** The token in `path`, made first if there is none. A file others may read is made private again. */
export async function loadToken(path: string): Promise<string> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new VpsfwError('VPSFW_ERR_HTTP', `cannot read the HTTP token ${path}: ${(err as Error).message}`, { cause: err });
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    text = newToken();
    // `wx`: two agents starting at once never overwrite each other's token.
    await writeFile(path, text + '\n', { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw new VpsfwError('VPSFW_ERR_HTTP', `cannot write the HTTP token ${path}: ${e.message}`, { cause: e });
      text = (await readFile(path, 'utf8')).trim();
    });
  }
  if (!TOKEN.test(text)) throw new VpsfwError('VPSFW_ERR_HTTP', `${path}: not a vpsfw HTTP token (32 to 256 of A-Z a-z 0-9 _ -); delete it and a new one is made`);
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  return text;
}

function newToken(): string {
  const bytes = Buffer.alloc(32);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, bytes, 0, bytes.length, null);
  } finally {
    closeSync(fd);
  }
  return bytes.toString('base64url');
}

/** The token a request carries: `Authorization: Bearer T` (scrapers, the dashboard's requests) or `?token=T` (the dashboard's address). */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : null;
  }
  return url.searchParams.get('token');
}

/** Equal, in a time that does not depend on where they differ. */
export function sameToken(given: string | null, expected: string): boolean {
  if (given === null || given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}
