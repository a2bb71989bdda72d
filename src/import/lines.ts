// Input files line by line with bounded memory: a log of hundreds of MB is read in 1 MiB chunks
// (latin1: strace and QEMU logs are bytes, the parsers decode their escapes themselves), never as one
// string plus an array of all its lines (issue 19 item 3: a 106 MB log peaked at 277 MB that way).

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';

export interface LineSource {
  /** Lines without their `\n` (a trailing `\r` is kept: the parsers strip it). */
  lines(): Iterable<string>;
  /** After the iteration: whether the input ended with a newline (else its last line may be cut). */
  readonly endsClean: boolean;
  readonly file: string;
}

const CHUNK = 1 << 20;

/** A file's lines, read lazily; errors name the file. */
export function fileLines(path: string, what: string): LineSource {
  if (!existsSync(path)) throw new UserError(`${what} not found`, { file: path });
  if (statSync(path).isDirectory()) throw new UserError(`${what} is a directory, expected a file`, { file: path });
  let endsClean = true;
  return {
    file: path,
    get endsClean() {
      return endsClean;
    },
    *lines() {
      const fd = openSync(path, 'r');
      try {
        const buf = Buffer.allocUnsafe(CHUNK);
        let carry = '';
        let sawAny = false;
        for (;;) {
          const n = readSync(fd, buf, 0, CHUNK, null);
          if (n === 0) break;
          sawAny = true;
          const text = carry + buf.toString('latin1', 0, n);
          const parts = text.split('\n');
          carry = parts.pop()!;
          yield* parts;
        }
        endsClean = !sawAny || carry === '';
        if (carry !== '') yield carry;
      } finally {
        closeSync(fd);
      }
    },
  };
}

/** The same interface over text already in memory (tests, stdin-sized inputs). */
export function textLines(text: string, file: string): LineSource {
  const endsClean = text === '' || text.endsWith('\n');
  return {
    file,
    endsClean,
    *lines() {
      const parts = text.split('\n');
      if (endsClean) parts.pop();
      yield* parts;
    },
  };
}

/** The first `max` bytes of a file as latin1 text (content detection reads only the head). */
export function head(path: string, max = 65536): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(max);
    const n = readSync(fd, buf, 0, max, 0);
    return buf.toString('latin1', 0, n);
  } finally {
    closeSync(fd);
  }
}

/** The non-blank lines of a source with their 1-based numbers, `\r` stripped (the text readers' loop). */
export function* numberedLines(src: LineSource): Iterable<{ line: string; lineNo: number }> {
  let lineNo = 0;
  for (const raw of src.lines()) {
    lineNo++;
    const line = raw.replace(/\r$/, '');
    if (line.trim() !== '') yield { line, lineNo };
  }
}
