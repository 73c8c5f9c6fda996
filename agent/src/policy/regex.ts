// Payload regular expressions run on V8's linear-time engine (flag `l`): matching time grows with
// the input, never exponentially, so a pattern cannot be turned into a CPU denial of service.
// Patterns that need backtracking (back-references, lookbehind) are refused at validation.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--enable-experimental-regexp-engine');

// The linear engine has no case-insensitive mode: write [Gg][Ee][Tt] instead of flag i.
const ALLOWED_FLAGS = /^[ms]*$/;

/** Compiles a payload regex for the linear engine; throws with V8's reason when it cannot. */
export function compileLinear(source: string, flags = ''): RegExp {
  if (!ALLOWED_FLAGS.test(flags)) throw new SyntaxError(`flags may only be m and s (got "${flags}"); for case-insensitive matching write classes such as [Gg][Ee][Tt]`);
  // `latin1` decoding maps each byte to one code unit, so patterns may name any byte value.
  return new RegExp(source, flags + 'l');
}
