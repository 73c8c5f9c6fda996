// The ban state on disk: JSON lines, a header then one record per line, written to a temporary
// file in chunks and renamed, so a crash never leaves a half-written file and a hundred thousand
// bans are never one string, in either direction. Files of version 1 (one JSON document, from
// earlier releases) are still read. An unreadable file is logged by the caller and treated as empty.
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { BanRecord, BanStateFile } from './store.js';

const HEADER = { version: 2 };
const HEADER_LINE = JSON.stringify(HEADER) + '\n';
const CHUNK_BYTES = 16 * 1024;

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
        // The header decides the reader (a version 1 document may be one line of megabytes).
        const head = Buffer.alloc(HEADER_LINE.length);
        const { bytesRead } = await file.read(head, 0, head.length, 0);
        versionOne = head.subarray(0, bytesRead).toString() !== HEADER_LINE;
        if (!versionOne) {
          for await (const chunk of lines(file, HEADER_LINE.length)) yield chunk.filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as unknown);
        }
      } finally {
        await file.close();
      }
      if (versionOne) yield [...recordsOfVersionOne(JSON.parse(await readFile(path, 'utf8')), path)];
    },
    async save(records: Iterable<BanRecord>) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.tmp`;
      const file = await open(tmp, 'w', 0o600);
      try {
        let chunk = HEADER_LINE;
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

/**
 * The lines of a file from `position`, a chunk's worth at a time, read only when the consumer
 * asks for more: the file is never in memory at once, however slow the consumer (readline would
 * queue every line), and the consumer handles each chunk without waiting in between.
 */
async function* lines(file: FileHandle, position: number): AsyncGenerator<string[]> {
  const chunk = Buffer.alloc(CHUNK_BYTES);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for (;;) {
    const { bytesRead } = await file.read(chunk, 0, chunk.length, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const text = rest + decoder.write(chunk.subarray(0, bytesRead));
    const parts = text.split('\n');
    rest = parts.pop()!;
    yield parts;
  }
  rest += decoder.end();
  if (rest !== '') yield [rest];
}

/** Version 1: `{version: 1, bans: [...], offenders: [...]}`, as records. */
function* recordsOfVersionOne(doc: unknown, path: string): Generator<unknown> {
  const d = (doc ?? {}) as { version?: unknown; bans?: unknown; offenders?: unknown };
  if (d.version !== 1) throw new Error(`${path}: unknown ban state version ${JSON.stringify(d.version)}`);
  if (Array.isArray(d.bans)) for (const b of d.bans) yield { ...b, type: 'ban' };
  if (Array.isArray(d.offenders)) for (const o of d.offenders) yield { ...o, type: 'offender' };
}
