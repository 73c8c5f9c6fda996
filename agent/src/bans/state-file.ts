// The ban state on disk: JSON lines, a header then one record per line, written to a temporary
// file in chunks and renamed, so a crash never leaves a half-written file and a hundred thousand
// bans are never one string, in either direction. Files of version 1 (one JSON document, from
// earlier releases) are still read. An unreadable file is logged by the caller and treated as empty.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BanRecord, BanStateFile } from './store.js';

const HEADER = { version: 2 };
const CHUNK_BYTES = 64 * 1024;

export function jsonStateFile(path: string): BanStateFile {
  return {
    async *load() {
      let file;
      try {
        file = await open(path, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      let versionOne = false;
      try {
        let header = true;
        for await (const line of file.readLines()) {
          if (header) {
            header = false;
            // Version 1 is one document, maybe over many lines: read whole below.
            if (!line.startsWith(JSON.stringify(HEADER))) {
              versionOne = true;
              break;
            }
            continue;
          }
          if (line.trim() !== '') yield JSON.parse(line);
        }
      } finally {
        await file.close();
      }
      if (versionOne) yield* recordsOfVersionOne(JSON.parse(await readFile(path, 'utf8')), path);
    },
    async save(records: Iterable<BanRecord>) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.tmp`;
      const file = await open(tmp, 'w', 0o600);
      try {
        let chunk = JSON.stringify(HEADER) + '\n';
        for (const r of records) {
          chunk += JSON.stringify(r) + '\n';
          if (chunk.length >= CHUNK_BYTES) {
            await file.write(chunk);
            chunk = '';
          }
        }
        await file.write(chunk);
      } finally {
        await file.close();
      }
      await rename(tmp, path);
    },
  };
}

/** Version 1: `{version: 1, bans: [...], offenders: [...]}`, as records. */
function* recordsOfVersionOne(doc: unknown, path: string): Generator<unknown> {
  const d = (doc ?? {}) as { version?: unknown; bans?: unknown; offenders?: unknown };
  if (d.version !== 1) throw new Error(`${path}: unknown ban state version ${JSON.stringify(d.version)}`);
  if (Array.isArray(d.bans)) for (const b of d.bans) yield { ...b, type: 'ban' };
  if (Array.isArray(d.offenders)) for (const o of d.offenders) yield { ...o, type: 'offender' };
}
