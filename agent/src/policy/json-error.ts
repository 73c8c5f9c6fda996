// Where a JSON text goes wrong, by line and column, in words: JSON.parse says only "Unexpected
// token" with a snippet, or a character position (Node 20), so a small scanner of JSON's grammar
// finds the first place that breaks it. Pure.

export interface JsonSyntaxProblem {
  line: number;
  column: number;
  message: string;
}

class Stop {
  constructor(readonly offset: number, readonly expected: string) {}
}

/** The first syntax error in `text`, or null when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxProblem | null {
  let i = 0;
  const fail = (expected: string): never => {
    throw new Stop(i, expected);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail('a closing quote (")');
      const c = text[i]!;
      if (c === '"') return void i++;
      if (c === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('four hex digits after \\u');
          i += 5;
        } else if (i < text.length && '"\\/bfnrt'.includes(text[i]!)) i++;
        else fail('an escape: \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX');
      } else if (c < ' ') fail('no line break or control character inside a string (write \\n)');
      else i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a key in double quotes');
        string();
        ws();
        if (text[i] !== ':') fail('":"');
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail('"," or "}"');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail('"," or "]"');
      }
    }
    if (c === '"') return string();
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = i;
    if (c !== undefined && /[-\d]/.test(c) && number.test(text)) return void (i = number.lastIndex);
    for (const word of ['true', 'false', 'null']) if (text.startsWith(word, i)) return void (i += word.length);
    fail('a value (an object, array, string, number, true, false or null)');
  };
  try {
    value();
    ws();
    if (i < text.length) fail('the end of the document');
    return null;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    const before = text.slice(0, err.offset).split('\n');
    const found = err.offset >= text.length ? 'the text ends' : `found ${JSON.stringify(text[err.offset])}`;
    return { line: before.length, column: before.at(-1)!.length + 1, message: `expected ${err.expected}, ${found}` };
  }
}
