// Payload patterns compiled once: text and hex become byte needles searched with Buffer.indexOf;
// regular expressions run on V8's linear-time engine over the bytes read as latin1 (one char per byte).
import { compileLinear } from '../../policy/regex.js';
import type { Pattern } from '../../policy/schema.js';

/** How far back a regular expression can see across segments: a match longer than this that spans segments is missed. */
export const REGEX_WINDOW = 1024;

export interface CompiledPattern {
  test(data: Buffer): boolean;
  /** Bytes of earlier segments to keep so a match split across segments is still found. */
  readonly carry: number;
}

export function compilePattern(p: Pattern): CompiledPattern {
  if ('regex' in p) {
    const re = compileLinear(p.regex, p.flags);
    return { test: (data) => re.test(data.toString('latin1')), carry: REGEX_WINDOW };
  }
  const needle = 'text' in p ? Buffer.from(p.text, 'utf8') : Buffer.from(p.hex.replace(/\s+/g, ''), 'hex');
  return { test: (data) => data.indexOf(needle) >= 0, carry: needle.length - 1 };
}
