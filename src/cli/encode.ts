// `vfio-replay encode t.txt -o t.pb`: the binary trace of a text twin. The output appears only when
// the whole input parsed (written to a temporary file and renamed); on any error nothing is left.
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { UserError } from '../errors.js';
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
  // Open the input first: a missing input must not create (or clobber) the output.
  const stream = createReadStream(input, { encoding: 'utf8' });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (err: NodeJS.ErrnoException) => reject(new UserError(`cannot read text trace: ${err.code ?? String(err)}`, { file: input })));
  });
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
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      await emit(parser.line(line, ++lineNo));
    }
    await emit(parser.finish());
    await writer.close();
  } catch (err) {
    stream.destroy();
    await writer.abort();
    throw err;
  }
}
