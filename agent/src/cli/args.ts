// Shared by every command: option parsing with node's parseArgs, `--help`, and usage errors that
// name the bad option.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
};

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command<O extends Options> {
  usage: string;
  options: O;
}

export function parse<O extends Options>(cmd: Command<O>, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${cmd.usage}`);
  }
}

export const controlOption = { control: { type: 'string' } } as const;
export const policyOption = { policy: { type: 'string' } } as const;
