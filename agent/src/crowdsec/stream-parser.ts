// The decisions stream's answer, `{"deleted": [ ... ] | null, "new": [ ... ] | null}`, read a chunk
// at a time: each decision object is cut out and parsed on its own, so a start-up answer of a
// hundred thousand decisions (megabytes of JSON) is never one string nor one array of objects.
// Pure: text in, decisions out; it knows JSON's strings, escapes, objects and arrays, nothing of I/O.
import type { LapiDecision } from './decision.js';

export interface StreamedDecision {
  /** The member of the answer the decision came in: "new" or "deleted" (others are passed on, callers ignore them). */
  list: string;
  decision: LapiDecision;
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJ = 123;
const CLOSE_OBJ = 125;
const OPEN_ARR = 91;
const CLOSE_ARR = 93;
const COLON = 58;

/** The depth an element of a member's array sits at: the answer's object is 1, the array 2. */
const ELEMENT = 3;

export class StreamParser {
  #depth = 0;
  #inString = false;
  #escape = false;
  /** The member name being read (a string at depth 1), then the member whose value is being read. */
  #string = '';
  #member = '';
  /** The text of the decision object being cut out, across chunks. */
  #element = '';
  #inElement = false;
  #started = false;
  #done = false;

  /** Feeds the next piece of text; returns the decisions it completed. */
  push(text: string): StreamedDecision[] {
    const out: StreamedDecision[] = [];
    let from = this.#inElement ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.#inString) {
        if (this.#escape) this.#escape = false;
        else if (c === BACKSLASH) this.#escape = true;
        else if (c === QUOTE) this.#inString = false;
        else if (this.#depth === 1) this.#string += text[i];
        continue;
      }
      if (c <= 32) continue;
      if (this.#done) throw new SyntaxError(`unexpected text after the answer: ${JSON.stringify(text.slice(i, i + 40))}`);
      if (!this.#started) {
        if (c !== OPEN_OBJ) throw new SyntaxError(`expected an object, got ${JSON.stringify(text.slice(i, i + 40))}`);
        this.#started = true;
      }
      if (c === QUOTE) {
        this.#inString = true;
        if (this.#depth === 1) this.#string = '';
      } else if (c === COLON && this.#depth === 1) {
        this.#member = this.#string;
      } else if (c === OPEN_OBJ || c === OPEN_ARR) {
        this.#depth++;
        if (this.#depth === ELEMENT && c === OPEN_OBJ) {
          this.#inElement = true;
          this.#element = '';
          from = i;
        }
      } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
        if (this.#depth === ELEMENT && this.#inElement) {
          this.#element += text.slice(from, i + 1);
          out.push({ list: this.#member, decision: JSON.parse(this.#element) as LapiDecision });
          this.#inElement = false;
          this.#element = '';
          from = -1;
        }
        this.#depth--;
        if (this.#depth === 0) this.#done = true;
      }
    }
    if (this.#inElement) this.#element += text.slice(from);
    return out;
  }

  /** Throws unless the whole answer was read. */
  end(): void {
    if (!this.#done) throw new SyntaxError(this.#started ? 'the answer ended before its closing brace' : 'empty answer');
  }
}
