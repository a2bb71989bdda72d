// `vfio-replay export --perfetto t.pb -o t.perfetto-trace`: the trace and its replay in another
// tool's format. Perfetto (src/export/perfetto.ts) is the one format so far. Exit 0, 2 on bad input.

import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { perfettoTrace } from '../export/perfetto.js';
import { writeFileAtomic } from '../golden/atomic.js';
import { requireOneHeader } from '../report/index.js';
import { buildTimeline } from '../report/timeline.js';
import { loadTrace } from '../trace/index.js';
import { selectionsFor } from './selections.js';

interface ExportFlags {
  perfetto?: boolean;
  output: string;
  kernel?: string;
  vmm?: string;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('the trace and its replay in another tool\'s format: --perfetto writes a Perfetto trace (thread tracks, device-state lanes, outcomes, divergences)')
    .argument('<trace>', 'trace file (.pb, or its .txt text twin)')
    .option('--perfetto', 'a Perfetto trace (TrackEvent): open it in ui.perfetto.dev, query it with trace_processor')
    .requiredOption('-o, --output <file>', 'the file to write (replaced atomically)')
    .option('--kernel <version>', 'kernel model version (default: from the trace header)')
    .option('--vmm <version>', 'VMM model version or "none" (default: from the trace header)')
    .addHelpText(
      'after',
      '\nExit status: 0, 2 bad input.\nExample:\n  npx vfio-replay export --perfetto traces/seeds/002-guest-d3hot-mmio/guest-d3hot-mmio.pb -o seed002.perfetto-trace',
    )
    .action(async (file: string, flags: ExportFlags) => {
      if (flags.perfetto !== true) throw new UserError('export wants a format: --perfetto');
      const trace = await loadTrace(file);
      requireOneHeader(trace, file, 'export');
      const [sel] = selectionsFor(trace.header, flags, (w) => process.stderr.write(`vfio-replay: warning: ${w}\n`), file);
      const out = perfettoTrace(trace, file, await buildTimeline(file, sel));
      try {
        writeFileAtomic(flags.output, out.bytes);
      } catch (err) {
        throw new UserError(`cannot write the Perfetto trace: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: flags.output });
      }
      const clock = out.clock === 'ts_ns' ? 'timestamps from ts_ns' : 'no ts_ns in the trace: event i at i us';
      process.stdout.write(`wrote ${flags.output} (${trace.events.length} events, ${out.tracks} tracks, ${out.packets} packets; ${clock})\n`);
    });
}
