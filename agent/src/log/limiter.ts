// Per-packet events are rate-limited so a flood cannot fill the disk: at most `perSecond` lines,
// the rest counted and reported in the next line that gets through.

export class LogLimiter {
  readonly #perSecond: number;
  #windowStart = -Infinity;
  #used = 0;
  #suppressed = 0;
  #suppressedTotal = 0;

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
  }

  /** Returns how many were suppressed since the last allowed line, or -1 when this one must be suppressed. */
  take(nowMs: number): number {
    if (nowMs - this.#windowStart >= 1000) {
      this.#windowStart = nowMs;
      this.#used = 0;
    }
    if (this.#used >= this.#perSecond) {
      this.#suppressed++;
      this.#suppressedTotal++;
      return -1;
    }
    this.#used++;
    const s = this.#suppressed;
    this.#suppressed = 0;
    return s;
  }

  /** Suppressed since the last line that got through (that line reports them). */
  get suppressed(): number {
    return this.#suppressed;
  }

  /** Suppressed since start. */
  get suppressedTotal(): number {
    return this.#suppressedTotal;
  }
}
