// Loading a policy: one place, one order (--policy FILE, else cosmiconfig's search for `vpsfw`,
// else the built-in default), parsed once, frozen, handed down with its source and hash.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { MAX_LISTED_ISSUES, PolicyInvalidError, shortText, VpsfwError, type PolicyIssue } from '../errors.js';
import { defaultPolicyDocument } from './defaults.js';
import { deepFreeze } from './freeze.js';
import { findJsonSyntaxError } from './json-error.js';
import { Policy } from './schema.js';

export interface LoadedPolicy {
  policy: Readonly<Policy>;
  /** Where it came from: a file path, or "built-in default". */
  source: string;
  /** sha256 of the file's bytes as written, first 16 hex digits: tells which policy is running. */
  hash: string;
}

/** A policy with the document it was parsed from (`vpsfw render --format policy` prints it). */
export interface LoadedDocument extends LoadedPolicy {
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

/**
 * Validates a document; throws PolicyInvalidError listing the issues with path and (shortened)
 * value. `bytes` are the file as written, which the hash is of; a document made in code (the
 * built-in default, tests) is hashed as its JSON.
 */
export function parsePolicy(document: unknown, source: string, bytes?: Buffer): LoadedDocument {
  const result = Policy.safeParse(document, { reportInput: true });
  if (!result.success) {
    const issues = result.error.issues;
    throw new PolicyInvalidError(source, issues.slice(0, MAX_LISTED_ISSUES).map(toPolicyIssue), issues.length);
  }
  return { policy: deepFreeze(result.data), source, hash: hashOf(bytes ?? JSON.stringify(document)), document };
}

function toPolicyIssue(issue: z.core.$ZodIssue): PolicyIssue {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    // The keys are the user's: each shortened, and a few named at most.
    const keys = issue.keys.slice(0, MAX_KEYS_NAMED).map((k) => JSON.stringify(shortText(k)));
    const more = issue.keys.length > MAX_KEYS_NAMED ? ` and ${issue.keys.length - MAX_KEYS_NAMED} more` : '';
    return { path, message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys.join(', ')}${more}`, value: undefined };
  }
  if (issue.code === 'invalid_union') {
    // A union names no branch; the member nearest to the input tells the user most.
    const nearest = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
    const inner = nearest[0];
    if (inner) return toPolicyIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue);
  }
  return { path, message: issue.message, value: issue.input };
}

const MAX_KEYS_NAMED = 5;

function hashOf(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

export interface LoadOptions {
  /** An explicit file (`--policy`); its absence is an error, never a fallback. */
  file?: string | undefined;
  /** Where cosmiconfig starts searching; unset means do not search (the daemon under systemd). */
  searchFrom?: string | undefined;
}

export async function loadPolicy(opts: LoadOptions = {}): Promise<LoadedDocument> {
  if (opts.file !== undefined) {
    const bytes = await readPolicyFile(opts.file);
    return parsePolicy(parseJson(bytes, opts.file), opts.file, bytes);
  }
  if (opts.searchFrom !== undefined) {
    // Loaded only to search: it reads the home directory at import, and the service has none
    // (DynamicUser): `vpsfw run` never searches. Found by the systemd system test.
    const { cosmiconfig } = await import('cosmiconfig');
    const found = await cosmiconfig('vpsfw', { searchPlaces: SEARCH_PLACES }).search(opts.searchFrom).catch((err: Error) => {
      throw new VpsfwError('VPSFW_ERR_POLICY_UNREADABLE', `cannot read policy: ${err.message}`, { cause: err });
    });
    if (found && !found.isEmpty) return parsePolicy(found.config, found.filepath, await readPolicyFile(found.filepath));
  }
  return parsePolicy(defaultPolicyDocument, BUILTIN_SOURCE);
}

async function readPolicyFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') throw new VpsfwError('VPSFW_ERR_POLICY_NOT_FOUND', `policy file ${file} does not exist`, { cause: err });
    const why = errno === 'EACCES' || errno === 'EPERM' ? 'permission denied' : errno === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new VpsfwError('VPSFW_ERR_POLICY_UNREADABLE', `cannot read policy file ${file}: ${why}`, { cause: err });
  }
}

function parseJson(bytes: Buffer, file: string): unknown {
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = findJsonSyntaxError(text);
    const message = at ? `not valid JSON at line ${at.line}, column ${at.column}: ${at.message}` : `not valid JSON: ${(err as Error).message}`;
    throw new PolicyInvalidError(file, [{ path: '', message, value: undefined }]);
  }
}
