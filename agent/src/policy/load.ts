// Loading a policy: one place, one order (--policy FILE, else cosmiconfig's search for `vpsfw`,
// else the built-in default), parsed once, frozen, handed down with its source and hash.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { PolicyInvalidError, VpsfwError, type PolicyIssue } from '../errors.js';
import { defaultPolicyDocument } from './defaults.js';
import { deepFreeze } from './freeze.js';
import { findJsonSyntaxError } from './json-error.js';
import { Policy } from './schema.js';

export interface LoadedPolicy {
  policy: Readonly<Policy>;
  /** Where it came from: a file path, or "built-in default". */
  source: string;
  /** sha256 of the document as written, first 16 hex digits: tells which policy is running. */
  hash: string;
  /** The document as written, before defaults. */
  document: unknown;
}

export const BUILTIN_SOURCE = 'built-in default';

// cosmiconfig's defaults plus vpsfw.config.json/yaml, which its defaults lack.
const SEARCH_PLACES = [
  'package.json',
  ...['', '.json', '.yaml', '.yml', '.js', '.ts', '.mjs', '.cjs'].map((ext) => `.vpsfwrc${ext}`),
  ...['json', 'yaml', 'yml', 'js', 'ts', 'mjs', 'cjs'].map((ext) => `vpsfw.config.${ext}`),
];

/** Validates a document; throws PolicyInvalidError listing every issue with path and value. */
export function parsePolicy(document: unknown, source: string): LoadedPolicy {
  const result = Policy.safeParse(document, { reportInput: true });
  if (!result.success) throw new PolicyInvalidError(source, result.error.issues.map(toPolicyIssue));
  return { policy: deepFreeze(result.data), source, hash: hashDocument(document), document };
}

function toPolicyIssue(issue: z.core.$ZodIssue): PolicyIssue {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return { path, message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`, value: undefined };
  }
  if (issue.code === 'invalid_union') {
    // A union names no branch; the member nearest to the input tells the user most.
    const nearest = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
    const inner = nearest[0];
    if (inner) return toPolicyIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue);
  }
  return { path, message: issue.message, value: issue.input };
}

export function hashDocument(document: unknown): string {
  return createHash('sha256').update(JSON.stringify(document)).digest('hex').slice(0, 16);
}

export interface LoadOptions {
  /** An explicit file (`--policy`); its absence is an error, never a fallback. */
  file?: string | undefined;
  /** Where cosmiconfig starts searching; unset means do not search (the daemon under systemd). */
  searchFrom?: string | undefined;
}

export async function loadPolicy(opts: LoadOptions = {}): Promise<LoadedPolicy> {
  if (opts.file !== undefined) return parsePolicy(await readJsonFile(opts.file), opts.file);
  if (opts.searchFrom !== undefined) {
    // Loaded only to search: it reads the home directory at import, and the service has none
    // (DynamicUser): `vpsfw run` never searches. Found by the systemd system test.
    const { cosmiconfig } = await import('cosmiconfig');
    const found = await cosmiconfig('vpsfw', { searchPlaces: SEARCH_PLACES }).search(opts.searchFrom).catch((err: Error) => {
      throw new VpsfwError('VPSFW_ERR_POLICY_UNREADABLE', `cannot read policy: ${err.message}`, { cause: err });
    });
    if (found && !found.isEmpty) return parsePolicy(found.config, found.filepath);
  }
  return parsePolicy(defaultPolicyDocument, BUILTIN_SOURCE);
}

async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') throw new VpsfwError('VPSFW_ERR_POLICY_NOT_FOUND', `policy file ${file} does not exist`, { cause: err });
    const why = errno === 'EACCES' || errno === 'EPERM' ? 'permission denied' : errno === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new VpsfwError('VPSFW_ERR_POLICY_UNREADABLE', `cannot read policy file ${file}: ${why}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = findJsonSyntaxError(text);
    const message = at ? `not valid JSON at line ${at.line}, column ${at.column}: ${at.message}` : `not valid JSON: ${(err as Error).message}`;
    throw new PolicyInvalidError(file, [{ path: '', message, value: undefined }]);
  }
}
