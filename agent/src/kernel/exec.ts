// The only module that runs kernel commands. Arguments are arrays, never shell strings; a failure
// becomes a KernelCommandError naming the command and its stderr.
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { KernelCommandError } from '../errors.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  /**
   * Runs a command, feeding `input` on stdin (text, or pieces made as the command reads them);
   * rejects with KernelCommandError on a non-zero exit.
   */
  run(cmd: string, args: string[], input?: string | Iterable<string>): Promise<CommandResult>;
}

/** Runs commands in this process's network namespace; `prefix` (e.g. ip netns exec NS) for tests. */
export function realRunner(prefix: string[] = []): CommandRunner {
  return {
    run(cmd, args, input) {
      const argv = [...prefix, cmd, ...args];
      return new Promise((resolve, reject) => {
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', (err) => reject(new KernelCommandError(argv.join(' '), err.message, null)));
        child.on('close', (code) => {
          if (code === 0) resolve({ code, stdout, stderr });
          else reject(new KernelCommandError(`${cmd} ${args.join(' ')}`, stderr || stdout, code));
        });
        // A command that fails before reading its input closes the pipe: its exit status tells why.
        child.stdin.on('error', () => undefined);
        if (typeof input === 'string' || input === undefined) child.stdin.end(input ?? '');
        else void feed(child.stdin, input);
      });
    },
  };
}

/**
 * Writes the pieces as the reader takes them: a long input is never in memory at once. A command
 * that stops reading (it failed) ends the writing; its exit status says why.
 */
async function feed(stdin: Writable, pieces: Iterable<string>): Promise<void> {
  for (const piece of pieces) {
    if (stdin.destroyed) return;
    if (!stdin.write(piece) && !(await drained(stdin))) return;
  }
  stdin.end();
}

/** True once the pipe takes more, false if it closed first. */
function drained(stdin: Writable): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      stdin.off('drain', onDrain).off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    stdin.on('drain', onDrain).on('close', onClose);
  });
}
