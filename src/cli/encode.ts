// `vfio-replay encode t.txt -o t.pb`: the binary trace of a text twin. The output appears only when
// the whole input parsed (written to a temporary file and renamed); on any error nothing is left.
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { readLines } from '../trace/lines.js';
import { TextParser, type TextPacket } from '../trace/text-parse.js';
import { TraceWriter } from '../trace/writer.js';

interface EncodeFlags {
  output: string;
}

export function register(program: Command): void {
  program
    .command('encode')
    .description('encode a text trace (.txt) into the binary format (.pb)')
    .argument('<text>', 'text twin to encode (docs/text-format.md)')
    .requiredOption('-o, --output <file>', 'binary trace to write (replaced atomically)')
    .addHelpText('after', '\nExample:\n  npx vfio-replay encode traces/examples/e1000e-bringup.txt -o /tmp/bringup.pb')
    .action(async (text: string, flags: EncodeFlags) => {
      await runEncode(text, flags.output);
    });
}

async function runEncode(input: string, output: string): Promise<void> {
  // Read the first line before opening the output: a missing input must not create (or clobber) it.
  const lines = readLines(input);
  let next: IteratorResult<string>;
  try {
    next = await lines.next();
  } catch (err) {
    throw new UserError(`cannot read text trace: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: input });
  }
  const writer = await TraceWriter.create(output);
  try {
    const parser = new TextParser(input);
    const emit = async (packets: TextPacket[]): Promise<void> => {
      for (const p of packets) {
        if (p.type === 'header') await writer.header(p.header);
        else await writer.event(p.event);
      }
    };
    let lineNo = 0;
    for (; next.done !== true; next = await lines.next()) await emit(parser.line(next.value, ++lineNo));
    await emit(parser.finish());
    await writer.close();
  } catch (err) {
    await lines.return(undefined);
    await writer.abort();
    throw err;
  }
}
