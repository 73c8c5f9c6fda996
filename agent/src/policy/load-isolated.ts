// Loading the policy in a child process, for the daemon: zod and the schema (about 6 MiB of the
// agent's memory, docs/benchmarks.md) are needed for a moment at start and at each reload, and the
// daemon should not carry them for its whole life. The child runs `loadPolicy` (policy/load.ts)
// with the same options and prints the result, or the error, as one JSON document; the daemon gets
// the same LoadedPolicy or the same error as if it had loaded the policy itself.
// What the child prints is bounded by the policy, never by the document: the document itself is
// not sent back, and an error's issues are shortened (errors.ts), so a document nested 100,000
// deep or holding a 20 MB value gives a few lines.
// Run as a script, this module is that child.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PolicyInvalidError, VpsfwError, type ErrorCode, type PolicyIssue } from '../errors.js';
import { deepFreeze } from './freeze.js';
import type { LoadedPolicy, LoadOptions } from './load.js';

type Outcome = { ok: true; loaded: LoadedPolicy } | { ok: false; error: { code: ErrorCode; message: string; source?: string; issues?: PolicyIssue[]; total?: number } };

const SELF = fileURLToPath(import.meta.url);
const TIMEOUT_MS = 30_000;
/** The end of the child's stderr kept for the message when it fails (a crash's stack, say). */
const STDERR_KEPT = 4096;

export async function loadPolicyIsolated(opts: LoadOptions): Promise<LoadedPolicy> {
  // The same Node and flags (under the tests, the same TypeScript loader).
  const { stdout, stderr, failure } = await runChild(JSON.stringify(opts));
  let outcome: Outcome;
  try {
    outcome = JSON.parse(stdout) as Outcome;
  } catch {
    throw new VpsfwError('VPSFW_ERR_POLICY_UNREADABLE', `the policy loader failed (${failure ?? 'no answer'}): ${stderr.trim()}`);
  }
  if (outcome.ok) return { ...outcome.loaded, policy: deepFreeze(outcome.loaded.policy) };
  const e = outcome.error;
  if (e.issues && e.source !== undefined) throw new PolicyInvalidError(e.source, e.issues, e.total);
  throw new VpsfwError(e.code, e.message);
}

/** Runs the child; its stdout whole (the policy: no buffer limit to overflow), the end of its stderr. */
function runChild(arg: string): Promise<{ stdout: string; stderr: string; failure: string | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, SELF, arg], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    let failure: string | null = null;
    const timer = setTimeout(() => {
      failure = `no answer within ${TIMEOUT_MS} ms`;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_KEPT)));
    child.on('error', (err) => (failure = err.message));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) failure ??= signal ? `killed by ${signal}` : `exit ${code}`;
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr, failure });
    });
  });
}

async function child(opts: LoadOptions): Promise<Outcome> {
  const { loadPolicy } = await import('./load.js');
  try {
    const { policy, source, hash } = await loadPolicy(opts);
    return { ok: true, loaded: { policy, source, hash } };
  } catch (err) {
    if (!(err instanceof VpsfwError)) throw err;
    const issues = err instanceof PolicyInvalidError ? { source: err.source, issues: [...err.issues], total: err.total } : {};
    return { ok: false, error: { code: err.code, message: err.message, ...issues } };
  }
}

if (process.argv[1] === SELF) process.stdout.write(JSON.stringify(await child(JSON.parse(process.argv[2] ?? '{}') as LoadOptions)));
