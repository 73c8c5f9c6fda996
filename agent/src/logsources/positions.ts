// Where each log source stopped, one small JSON file per source in the state directory, written
// atomically (a temporary file renamed over the old one) after every read: a restart resumes
// there. A position saved for another file or unit (the source was changed) is not used.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PositionStore } from './file-follower.js';

export function positionFile<P>(stateDir: string, name: string, identity: string): PositionStore<P> {
  const dir = join(stateDir, 'logsources');
  const file = join(dir, `${name}.json`);
  let made = false;
  return {
    load() {
      try {
        const doc = JSON.parse(readFileSync(file, 'utf8')) as { identity?: unknown; position?: P };
        return doc.identity === identity && doc.position !== undefined ? doc.position : null;
      } catch {
        return null;
      }
    },
    save(position) {
      if (!made) mkdirSync(dir, { recursive: true, mode: 0o700 });
      made = true;
      writeFileSync(`${file}.tmp`, JSON.stringify({ identity, position }));
      renameSync(`${file}.tmp`, file);
    },
  };
}
