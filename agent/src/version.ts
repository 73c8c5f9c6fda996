// The version of vpsfw, read from the package.json beside the code (the repository's, or the
// installed copy's), so it is written in one place.
import { readFileSync } from 'node:fs';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
