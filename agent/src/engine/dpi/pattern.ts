// Payload patterns compiled once: text and hex become byte needles; regular expressions run on
// V8's linear-time engine over the bytes read as latin1 (one char per byte). Everything is passed
// as (buffer, start, length), so searching a packet inside the queue's batch buffer takes no view.
import { compileLinear } from '../../policy/regex.js';
import type { Pattern } from '../../policy/schema.js';

/**
 * How far back a regular expression sees across TCP segments: a match that spans segments and is
 * longer than this is missed. `^` and `$` (without flag m) anchor to the ends of what is searched:
 * the window plus the new segment, which is the start of the flow only while the flow is shorter
 * than the window.
 */
export const REGEX_WINDOW = 1024;

/** Shorter stretches are searched in JavaScript: a native call costs more than the search. */
const NATIVE_SEARCH_FROM = 256;

export interface CompiledPattern {
  /**
   * Does the pattern occur in the tail followed by the data? The tail is the end of what came
   * before on the same stream (already searched); only its last `carry` bytes are looked at.
   */
  test(tail: Uint8Array, tailStart: number, tailLength: number, data: Buffer, dataStart: number, dataLength: number): boolean;
  /** Bytes of earlier segments to keep so a match split across segments is still found. */
  readonly carry: number;
}

export function compilePattern(p: Pattern): CompiledPattern {
  if ('regex' in p) return regexPattern(compileLinear(p.regex, p.flags));
  return needlePattern('text' in p ? Buffer.from(p.text, 'utf8') : Buffer.from(p.hex.replace(/\s+/g, ''), 'hex'));
}

const latin1 = (b: Uint8Array, start: number, length: number) => Buffer.from(b.buffer, b.byteOffset + start, length).toString('latin1');

function regexPattern(re: RegExp): CompiledPattern {
  return {
    carry: REGEX_WINDOW,
    test(tail, tailStart, tailLength, data, dataStart, dataLength) {
      const t = Math.min(tailLength, REGEX_WINDOW);
      const text = latin1(data, dataStart, dataLength);
      return re.test(t > 0 ? latin1(tail, tailStart + tailLength - t, t) + text : text);
    },
  };
}

/** The first index of `needle` within [start, end) of `hay`, or -1. */
export function indexWithin(hay: Buffer, start: number, end: number, needle: Buffer): number {
  const n = needle.length;
  if (end - start >= NATIVE_SEARCH_FROM) {
    const i = hay.subarray(start, end).indexOf(needle);
    return i < 0 ? -1 : start + i;
  }
  const first = needle[0];
  outer: for (let i = start, last = end - n; i <= last; i++) {
    if (hay[i] !== first) continue;
    for (let j = 1; j < n; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function needlePattern(needle: Buffer): CompiledPattern {
  const carry = needle.length - 1;
  // The seam (end of tail + start of data) is searched in a scratch buffer reused for every
  // packet: no allocation, however long the segment.
  const seam = Buffer.allocUnsafeSlow(2 * carry);
  return {
    carry,
    test(tail, tailStart, tailLength, data, dataStart, dataLength) {
      if (indexWithin(data, dataStart, dataStart + dataLength, needle) >= 0) return true;
      if (carry === 0 || tailLength === 0) return false;
      const t = Math.min(tailLength, carry);
      const d = Math.min(dataLength, carry);
      const from = tailStart + tailLength - t;
      for (let i = 0; i < t; i++) seam[i] = tail[from + i]!;
      data.copy(seam, t, dataStart, dataStart + d);
      return indexWithin(seam, 0, t + d, needle) >= 0;
    },
  };
}
