// Bytes in, complete lines out: a partial last line is held until its newline comes, and a line
// longer than the limit is dropped whole (told through onSkip) so memory stays bounded.
export class LineSplitter {
  readonly #max: number;
  readonly #onSkip: (bytes: number) => void;
  #partial: Buffer[] = [];
  /** Bytes since the last newline: held, or being skipped. */
  #since = 0;
  #skipping = false;

  constructor(maxLineBytes: number, onSkip: (bytes: number) => void) {
    this.#max = maxLineBytes;
    this.#onSkip = onSkip;
  }

  /** Bytes after the last complete line (what a restart must read again). */
  get pendingBytes(): number {
    return this.#since;
  }

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf(0x0a, start)) >= 0) {
      const piece = chunk.subarray(start, nl);
      const bytes = this.#since + piece.length;
      if (this.#skipping || bytes > this.#max) {
        if (!this.#skipping) this.#onSkip(bytes);
      } else {
        const text = (this.#partial.length > 0 ? Buffer.concat([...this.#partial, piece]) : piece).toString('utf8');
        lines.push(text.endsWith('\r') ? text.slice(0, -1) : text);
      }
      this.#partial = [];
      this.#since = 0;
      this.#skipping = false;
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      this.#since += rest.length;
      if (!this.#skipping && this.#since > this.#max) {
        this.#onSkip(this.#since);
        this.#skipping = true;
        this.#partial = [];
      } else if (!this.#skipping) {
        // A copy: the caller may reuse its buffer.
        this.#partial.push(Buffer.from(rest));
      }
    }
    return lines;
  }
}
