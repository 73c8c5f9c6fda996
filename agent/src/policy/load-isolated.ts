// Loading the policy in a child process, for the daemon: zod and the schema (about 6 MiB of the
// agent's memory, docs/benchmarks.md) are needed for a moment at start and at each reload, and the
// daemon should not carry them for its whole life. The child runs `loadPolicy` (policy/load.ts)
// with the same options and prints the result, or the error, as one JSON document; the daemon gets
// the same LoadedPolicy or the same error as if it had loaded the policy itself.
// Run as a script, this module is that child.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PolicyInvalidError, VpsfwError, type ErrorCode, type PolicyIssue } from '../errors.js';
import { deepFreeze } from './freeze.js';
import type { LoadedPolicy, LoadOptions } from './load.js';

type Outcome = { ok: true; loaded: LoadedPolicy } | { ok: false; error: { code: ErrorCode; message: string; source?: string; issues?: PolicyIssue[] } };

const SELF = fileURLToPath(import.meta.url);
const TIMEOUT_MS = 30_000;

export async function loadPolicyIsolated(opts: LoadOptions): Promise<LoadedPolicy> {
  // The same Node and flags (under the tests, the same TypeScript loader).
  const { stdout, stderr, failure } = await new Promise<{ stdout: string; stderr: string; failure: Error | null }>((resolve) =>
    execFile(process.execPath, [...process.execArgv, SELF, JSON.stringify(opts)], { timeout: TIMEOUT_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ stdout, stderr, failure: err })),
  );
  let outcome: Outcome;
  try {
    outcome = JSON.parse(stdout) as Outcome;
  } catch {
    throw new VpsfwError('VPSFW_ERR_POLICY_UNREADABLE', `the policy loader failed (${failure?.message ?? 'no answer'}): ${stderr.trim()}`);
  }
  if (outcome.ok) return { ...outcome.loaded, policy: deepFreeze(outcome.loaded.policy) };
  const e = outcome.error;
  if (e.issues && e.source !== undefined) throw new PolicyInvalidError(e.source, e.issues);
  throw new VpsfwError(e.code, e.message);
}

async function child(opts: LoadOptions): Promise<Outcome> {
  const { loadPolicy } = await import('./load.js');
  try {
    return { ok: true, loaded: await loadPolicy(opts) };
  } catch (err) {
    if (!(err instanceof VpsfwError)) throw err;
    const issues = err instanceof PolicyInvalidError ? { source: err.source, issues: [...err.issues] } : {};
    return { ok: false, error: { code: err.code, message: err.message, ...issues } };
  }
}

if (process.argv[1] === SELF) process.stdout.write(JSON.stringify(await child(JSON.parse(process.argv[2] ?? '{}') as LoadOptions)));
