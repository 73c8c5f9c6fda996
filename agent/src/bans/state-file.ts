// The ban state on disk: JSON lines, a header then one record per line, written in chunks to a
// temporary file that is synced, renamed over the old one, and the directory synced: a crash or a
// power cut leaves the old file or the new one, never half of one, and a hundred thousand bans are
// never one string, in either direction. Reading goes on past a line that holds no record (a
// truncated last line, a record of the wrong shape): the caller is told where and why, and gets
// every good record. Files of version 1 (one JSON document, from earlier releases) are still read;
// records from before origins existed get one from their decider.
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { formatValue } from '../errors.js';
import { parseCidr } from '../policy/units.js';
import { BAN_ORIGINS, type BanOrigin, type BanRecord, type BanStateFile } from './store.js';

const HEADER = { version: 2 };
const HEADER_LINE = JSON.stringify(HEADER) + '\n';
const CHUNK_BYTES = 16 * 1024;

export function jsonStateFile(path: string): BanStateFile {
  return {
    path,
    async *load(bad) {
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
          let line = 1;
          for await (const chunk of lines(file, HEADER_LINE.length)) {
            const records: BanRecord[] = [];
            for (const text of chunk) {
              line++;
              if (text.trim() === '') continue;
              let value: unknown;
              try {
                value = JSON.parse(text);
              } catch (err) {
                bad(`line ${line}`, `not valid JSON (${(err as Error).message})`);
                continue;
              }
              const r = recordOf(value);
              if (typeof r === 'string') bad(`line ${line}`, r);
              else records.push(r);
            }
            yield records;
          }
        }
      } finally {
        await file.close();
      }
      if (versionOne) yield recordsOfVersionOne(JSON.parse(await readFile(path, 'utf8')), path, bad);
    },
    async save(records: Iterable<BanRecord>) {
      const dir = dirname(path);
      await mkdir(dir, { recursive: true, mode: 0o700 });
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
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, path);
      // The rename is durable once the directory is.
      const d = await open(dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
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
function recordsOfVersionOne(doc: unknown, path: string, bad: (where: string, why: string) => void): BanRecord[] {
  const d = (doc ?? {}) as { version?: unknown; bans?: unknown; offenders?: unknown };
  if (d.version !== 1) throw new Error(`${path}: unknown ban state version ${formatValue(d.version)}`);
  const records: BanRecord[] = [];
  for (const [list, type] of [
    [d.bans, 'ban'],
    [d.offenders, 'offender'],
  ] as const) {
    if (!Array.isArray(list)) continue;
    list.forEach((value: unknown, i) => {
      const r = recordOf(value && typeof value === 'object' ? { ...value, type } : value);
      if (typeof r === 'string') bad(`${type === 'ban' ? 'bans' : 'offenders'}[${i}]`, r);
      else records.push(r);
    });
  }
  return records;
}

/** The record a parsed line holds, or why it holds none (the field and the value). */
function recordOf(value: unknown): BanRecord | string {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return `expected a ban or offender record (got ${formatValue(value)})`;
  const r = value as Record<string, unknown>;
  const wrong = (field: string, expected: string) => `${field}: expected ${expected} (got ${formatValue(r[field])})`;
  if (r.type !== 'ban' && r.type !== 'offender') return wrong('type', '"ban" or "offender"');
  const target = typeof r.address === 'string' ? parseCidr(r.address) : null;
  if (target === null) return wrong('address', 'an IPv4 or IPv6 address or network');
  if (r.type === 'offender') {
    if (!Number.isSafeInteger(r.count)) return wrong('count', 'a whole number');
    if (!Number.isFinite(r.last)) return wrong('last', 'a time in ms');
    return { type: 'offender', address: r.address as string, count: r.count as number, last: r.last as number };
  }
  for (const f of ['since', 'until']) if (!Number.isFinite(r[f])) return wrong(f, 'a time in ms');
  if (!Number.isSafeInteger(r.offense)) return wrong('offense', 'a whole number');
  for (const f of ['reason', 'by']) if (typeof r[f] !== 'string') return wrong(f, 'text');
  if (r.origin !== undefined && !BAN_ORIGINS.includes(r.origin as BanOrigin)) return wrong('origin', `one of ${BAN_ORIGINS.join(', ')}`);
  if (r.scenario !== undefined && typeof r.scenario !== 'string') return wrong('scenario', 'text');
  const by = r.by as string;
  // Records saved before origins existed: the decider tells.
  const origin = (r.origin as BanOrigin | undefined) ?? (by === 'control' ? 'control' : by === 'kernel' ? 'kernel' : 'agent');
  return {
    type: 'ban',
    address: r.address as string,
    family: target.family,
    since: r.since as number,
    until: r.until as number,
    reason: r.reason as string,
    by,
    origin,
    ...(typeof r.scenario === 'string' ? { scenario: r.scenario } : {}),
    offense: r.offense as number,
  };
}
