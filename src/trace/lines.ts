// Lines of a text file as every text reader here splits them: at LF only. A CR right before the LF
// (a CRLF file) is left on the line for the parser to drop; a CR anywhere else is not a line break
// (node:readline would split at it, which made `encode` accept text that `dump` refused).
import { createReadStream } from 'node:fs';

/** The lines of `path`, without their LF; a final line without LF is still a line. Streams. */
export async function* readLines(path: string): AsyncGenerator<string> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 16 });
  let rest = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      let start = 0;
      let nl = chunk.indexOf('\n');
      if (nl < 0) {
        rest += chunk;
        continue;
      }
      yield rest + chunk.slice(0, nl);
      start = nl + 1;
      while ((nl = chunk.indexOf('\n', start)) >= 0) {
        yield chunk.slice(start, nl);
        start = nl + 1;
      }
      rest = chunk.slice(start);
    }
    yield rest;
  } finally {
    stream.destroy();
  }
}
