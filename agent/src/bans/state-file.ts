// The ban state on disk: JSON, written to a temporary file and renamed so a crash never leaves a
// half-written file. An unreadable file is logged by the caller and treated as empty.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BanState, BanStateFile } from './store.js';

export function jsonStateFile(path: string): BanStateFile {
  return {
    async load() {
      try {
        return JSON.parse(await readFile(path, 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    async save(state: BanState) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.tmp`;
      await writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
      await rename(tmp, path);
    },
  };
}
