// Lexical helpers for strace's argument syntax: C string literals (with -x / -xx escapes and the
// default octal ones), top-level argument splitting that respects strings, brackets and -y `<path>`
// annotations, and integer literals in the forms strace prints (decimal, 0x hex, NULL).

/** Thrown by the helpers; the strace parser turns it into a located UserError. */
export class SyntaxProblem extends Error {
  constructor(
    message: string,
    /** 0-based column within the text that was being read. */
    readonly column: number,
  ) {
    super(message);
  }
}

const SIMPLE_ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, '\\': 92, '"': 34, "'": 39 };

/**
 * Decode the body of a C string literal as strace prints it (`\xNN` with -x/-xx, `\NNN` octal and
 * `\n`-style escapes by default, printable ASCII as itself). Returns the bytes.
 */
export function decodeCEscapes(body: string, column = 0): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      const code = ch.charCodeAt(0);
      if (code > 0xff) {
        for (const b of Buffer.from(ch, 'utf8')) out.push(b);
      } else out.push(code);
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) throw new SyntaxProblem('dangling backslash in string', column + i);
    if (next === 'x') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 2, i + 4));
      if (!hex) throw new SyntaxProblem('bad \\x escape in string', column + i);
      out.push(parseInt(hex[0], 16));
      i += 1 + hex[0].length;
    } else if (next >= '0' && next <= '7') {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i + 1, i + 4))!;
      out.push(parseInt(oct[0], 8) & 0xff);
      i += oct[0].length;
    } else if (next in SIMPLE_ESCAPES) {
      out.push(SIMPLE_ESCAPES[next]!);
      i += 1;
    } else {
      throw new SyntaxProblem(`unknown escape \\${next} in string`, column + i);
    }
  }
  return Uint8Array.from(out);
}

export interface StringArg {
  bytes: Uint8Array;
  /** strace cut the string at -s: the bytes are a prefix of what the call saw. */
  truncated: boolean;
}

/** Parse a whole argument that is a string literal: `"..."` optionally followed by `...`. */
export function parseStringArg(arg: string, column = 0): StringArg | null {
  const t = arg.trim();
  if (!t.startsWith('"')) return null;
  const end = closingQuote(t, 0);
  if (end < 0) throw new SyntaxProblem('unterminated string', column);
  const rest = t.slice(end + 1);
  if (rest !== '' && rest !== '...') throw new SyntaxProblem('unexpected text after string', column + end + 1);
  return { bytes: decodeCEscapes(t.slice(1, end), column + 1), truncated: rest === '...' };
}

/** Index of the quote that closes the string opening at `start`, or -1. */
export function closingQuote(s: string, start: number): number {
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '"') return i;
  }
  return -1;
}

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

export interface Piece {
  text: string;
  /** 0-based column of the piece's first character within the split text. */
  column: number;
}

/**
 * Split `s` at top-level commas. Strings, (), [], {} and -y annotations `N<path>` nest; a `<`
 * counts as an annotation only right after a word character (an fd number or AT_FDCWD), because
 * that is the only place strace prints one. `/* ... *\/` comments (-X verbose) are kept in pieces.
 */
export function splitTopLevel(s: string, column = 0): Piece[] {
  const pieces: Piece[] = [];
  const stack: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') {
      const end = closingQuote(s, i);
      if (end < 0) throw new SyntaxProblem('unterminated string', column + i);
      i = end;
    } else if (c === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      if (end < 0) throw new SyntaxProblem('unterminated comment', column + i);
      i = end + 1;
    } else if (c in OPEN) {
      stack.push(OPEN[c]!);
    } else if (c === '<' && i > 0 && /\w/.test(s[i - 1]!)) {
      stack.push('>');
    } else if (stack.length > 0 && c === stack[stack.length - 1]) {
      stack.pop();
    } else if (c === ')' || c === ']' || c === '}') {
      throw new SyntaxProblem(`unbalanced '${c}'`, column + i);
    } else if (c === ',' && stack.length === 0) {
      pieces.push(trimPiece(s.slice(start, i), column + start));
      start = i + 1;
    }
  }
  if (stack.length > 0) throw new SyntaxProblem(`missing '${stack[stack.length - 1]}'`, column + s.length);
  const last = trimPiece(s.slice(start), column + start);
  if (last.text !== '' || pieces.length > 0) pieces.push(last);
  return pieces;
}

function trimPiece(text: string, column: number): Piece {
  const lead = text.length - text.trimStart().length;
  return { text: text.trim(), column: column + lead };
}

/** Remove a trailing `/* ... *\/` comment (-X verbose) and return both parts. */
export function splitComment(arg: string): { value: string; comment: string } {
  const m = /^(.*?)\s*\/\*\s*(.*?)\s*\*\/$/.exec(arg.trim());
  return m ? { value: m[1]!, comment: m[2]! } : { value: arg.trim(), comment: '' };
}

/** An integer in strace's notation: decimal (maybe negative), 0x hex, NULL. null if not a number. */
export function parseInteger(text: string): bigint | null {
  const t = splitComment(text).value;
  if (t === 'NULL') return 0n;
  if (/^-?\d+$/.test(t)) return BigInt(t);
  if (/^0x[0-9a-fA-F]+$/.test(t)) return BigInt(t);
  return null;
}

/** An fd argument: `9`, `9<path>` (-y), `AT_FDCWD<path>`. */
export interface FdArg {
  fd: number; // -100 for AT_FDCWD
  path: string | null;
}

export function parseFdArg(text: string, column = 0): FdArg | null {
  // `3</memfd:x>(deleted)`: strace marks a file that was unlinked after it was opened.
  const m = /^(-?\d+|AT_FDCWD)(?:<(.*)>(?:\(deleted\))?)?$/s.exec(text.trim());
  if (!m) return null;
  const fd = m[1] === 'AT_FDCWD' ? -100 : Number(m[1]);
  return { fd, path: m[2] === undefined ? null : fdPath(m[2], column) };
}

/**
 * The file of a -y annotation (`<...>` after an fd or a result), decoded. -yy adds the device
 * numbers of a device file (`5</dev/vfio/12<char 243:0>>`): the path is what precedes them.
 */
export function fdPath(annotation: string, column = 0): string {
  return Buffer.from(decodeCEscapes(annotation, column)).toString('latin1').replace(/<(?:char|block) \d+:\d+>$/, '');
}

/** `{a=1, b=0x2, ...}` -> map of field name to raw text (nested values kept as text). */
export function parseStructFields(text: string, column = 0): Map<string, string> | null {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return null;
  const fields = new Map<string, string>();
  for (const p of splitTopLevel(t.slice(1, -1), column + 1)) {
    const eq = p.text.indexOf('=');
    if (eq < 0) continue; // "..." or an unnamed value
    fields.set(p.text.slice(0, eq).trim(), p.text.slice(eq + 1).trim());
  }
  return fields;
}
