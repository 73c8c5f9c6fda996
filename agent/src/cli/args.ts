// Shared by every command: option parsing with node's parseArgs, `--help`, and usage errors that
// name the bad option in our words (parseArgs' own sentences quote unevenly and suggest `--`).
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
  /** Whether the command takes arguments besides its options (ban IP); most take none. */
  positionals?: boolean;
}

export function parse<O extends Options>(cmd: Command<O>, argv: string[]) {
  const options = { ...cmd.options, help: { type: 'boolean', short: 'h' } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${optionProblem(err as Error & { code?: string }, options)}\n\n${cmd.usage}`);
  }
  if (!cmd.positionals && parsed.positionals.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}\n\n${cmd.usage}`);
  }
  return parsed;
}

/** parseArgs' error, said plainly: which option, and what is wrong with it. */
function optionProblem(err: Error & { code?: string }, options: Options): string {
  const name = /'(-[^' ]+)/.exec(err.message)?.[1] ?? '';
  const long = name.startsWith('--') ? name : `--${Object.entries(options).find(([, o]) => o.short === name.slice(1))?.[0] ?? name.slice(1)}`;
  const spec = options[long.slice(2)];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${name}`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return spec?.type === 'boolean' ? `${long} takes no value` : `${long} needs a value`;
  }
  return err.message;
}

export const controlOption = { control: { type: 'string' } } as const;
export const policyOption = { policy: { type: 'string' } } as const;
export const jsonOption = { json: { type: 'boolean' } } as const;
