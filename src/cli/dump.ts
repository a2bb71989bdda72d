// `vfio-replay dump t.pb`: the text twin of a trace (docs/text-format.md), or with --json one JSON
// object a line. Streams: a trace of any size prints in bounded memory.
import type { Command } from 'commander';
import { openTrace } from '../trace/source.js';
import { TextPrinter } from '../trace/text-print.js';
import { toJsonLine } from '../trace/json.js';
import { totalUnknown } from '../trace/reader.js';
import { Out } from './output.js';

interface DumpFlags {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('dump')
    .description('print a trace as its text twin (or JSON lines with --json)')
    .argument('<trace>', 'trace file (.pb, or a .txt text twin to canonicalize)')
    .option('--json', 'one JSON object a line: {"type":"header",...} / {"type":"event",...}; u64 values as "0x..." strings')
    .addHelpText('after', '\nExample:\n  npx vfio-replay dump traces/examples/e1000e-bringup.pb > bringup.txt')
    .action(async (trace: string, flags: DumpFlags) => {
      await runDump(trace, flags);
    });
}

async function runDump(path: string, flags: DumpFlags): Promise<void> {
  const src = await openTrace(path);
  const out = new Out();
  const printer = new TextPrinter();
  for await (const p of src.packets) {
    if (out.closed) break;
    if (flags.json) {
      const line = p.type === 'header' ? { type: 'header', offset: p.offset, ...p.header } : { type: 'event', index: p.index, offset: p.offset, ...p.event };
      await out.write(toJsonLine(line) + '\n');
    } else {
      await out.write(printer.packet(p));
    }
  }
  // Fields this reader's schema does not know were skipped: say so, never silently.
  if (totalUnknown(src.stats) > 0 || src.stats.unknownEvents > 0) {
    if (flags.json) {
      await out.write(toJsonLine({ type: 'unknown', unknownEvents: src.stats.unknownEvents, unknownFields: src.stats.unknownFields }) + '\n');
    } else {
      await out.write(`\n# ${src.stats.unknownEvents} events of unknown kinds skipped; unknown fields skipped:\n`);
      for (const [k, n] of src.stats.unknownFields) await out.write(`#   ${k} x${n}\n`);
    }
  }
  await out.flush();
}
