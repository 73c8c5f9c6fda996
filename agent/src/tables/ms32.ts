// Times in 32-bit columns: milliseconds modulo 2^32 (about 49 days), exact for state that is
// swept within minutes of its last use, at half the bytes of a double.

export const stamp32 = (now: number): number => now >>> 0;

/** Milliseconds from a stamp to `now` (a clock that went back reads as long ago). */
export const elapsed32 = (now: number, stamp: number): number => ((now >>> 0) - stamp) >>> 0;
