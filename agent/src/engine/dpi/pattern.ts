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

/** What `find` answers when the pattern is not there. */
export const NOT_FOUND = Number.POSITIVE_INFINITY;

export interface CompiledPattern {
  /**
   * Where the leftmost occurrence of the pattern in the tail followed by the data starts,
   * counted from the data's first byte (negative: it starts in the tail), or NOT_FOUND. The tail
   * is the end of what came before on the same stream (already searched); only its last `carry`
   * bytes are looked at. Leftmost, so a rule's depth can be applied exactly.
   */
  find(tail: Uint8Array, tailStart: number, tailLength: number, data: Buffer, dataStart: number, dataLength: number): number;
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
    find(tail, tailStart, tailLength, data, dataStart, dataLength) {
      const t = Math.min(tailLength, REGEX_WINDOW);
      const text = latin1(data, dataStart, dataLength);
      const m = re.exec(t > 0 ? latin1(tail, tailStart + tailLength - t, t) + text : text);
      return m === null ? NOT_FOUND : m.index - t;
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
    find(tail, tailStart, tailLength, data, dataStart, dataLength) {
      // The seam first: a match there starts before any match wholly in the data.
      if (carry > 0 && tailLength > 0) {
        const t = Math.min(tailLength, carry);
        const d = Math.min(dataLength, carry);
        const from = tailStart + tailLength - t;
        for (let i = 0; i < t; i++) seam[i] = tail[from + i]!;
        data.copy(seam, t, dataStart, dataStart + d);
        const i = indexWithin(seam, 0, t + d, needle);
        if (i >= 0) return i - t;
      }
      const i = indexWithin(data, dataStart, dataStart + dataLength, needle);
      return i < 0 ? NOT_FOUND : i - dataStart;
    },
  };
}
