// A CLI Io that records what a command prints.
import type { Io } from '../../agent/src/cli/args.js';

export function captureIo(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t.endsWith('\n') ? t : t + '\n'),
    err: (t: string) => void (io.stderr += t.endsWith('\n') ? t : t + '\n'),
  };
  return io;
}
