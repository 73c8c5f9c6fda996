// The bouncer key and the machine password come from files (systemd credentials, docs/fleet.md),
// never from the policy: read at start and at each reload, trimmed, and refused when empty.
import { readFile } from 'node:fs/promises';
import { VpsfwError } from '../errors.js';

export async function readSecret(field: string, path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new VpsfwError('VPSFW_ERR_CROWDSEC_SECRET', `${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const secret = text.trim();
  if (secret === '' || /\s/.test(secret)) throw new VpsfwError('VPSFW_ERR_CROWDSEC_SECRET', `${field}: ${path} ${secret === '' ? 'is empty' : 'holds more than one word'}`);
  return secret;
}
