// Payload patterns compiled once: text and hex become byte needles searched with Buffer.indexOf;
// regular expressions run on V8's linear-time engine over the bytes read as latin1 (one char per byte).
import { compileLinear } from '../../policy/regex.js';
import type { Pattern } from '../../policy/schema.js';

/**
 * How far back a regular expression sees across TCP segments: a match that spans segments and is
 * longer than this is missed. `^` and `$` (without flag m) anchor to the ends of what is searched:
 * the window plus the new segment, which is the start of the flow only while the flow is shorter
 * than the window.
 */
export const REGEX_WINDOW = 1024;

export interface CompiledPattern {
  /**
   * Does the pattern occur in `tail` followed by `data`? `tail` is the end of what came before on
   * the same stream (already searched); only its last `carry` bytes are looked at.
   */
  test(tail: Buffer, data: Buffer): boolean;
  /** Bytes of earlier segments to keep so a match split across segments is still found. */
  readonly carry: number;
}

export function compilePattern(p: Pattern): CompiledPattern {
  if ('regex' in p) return regexPattern(compileLinear(p.regex, p.flags));
  return needlePattern('text' in p ? Buffer.from(p.text, 'utf8') : Buffer.from(p.hex.replace(/\s+/g, ''), 'hex'));
}

function regexPattern(re: RegExp): CompiledPattern {
  return {
    carry: REGEX_WINDOW,
    test(tail, data) {
      const t = tail.length > REGEX_WINDOW ? tail.subarray(tail.length - REGEX_WINDOW) : tail;
      return re.test(t.length > 0 ? t.toString('latin1') + data.toString('latin1') : data.toString('latin1'));
    },
  };
}

function needlePattern(needle: Buffer): CompiledPattern {
  const carry = needle.length - 1;
  // The seam (end of tail + start of data) is searched in a scratch buffer reused for every
  // packet: no allocation, however long the segment.
  const seam = Buffer.allocUnsafeSlow(2 * carry);
  return {
    carry,
    test(tail, data) {
      if (data.indexOf(needle) >= 0) return true;
      if (carry === 0 || tail.length === 0) return false;
      const t = Math.min(tail.length, carry);
      const d = Math.min(data.length, carry);
      tail.copy(seam, 0, tail.length - t);
      data.copy(seam, t, 0, d);
      return seam.subarray(0, t + d).indexOf(needle) >= 0;
    },
  };
}
