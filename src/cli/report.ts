// `vfio-replay report t.pb -o report.html`: one self-contained HTML page (timeline with outcome
// badges, device-state lanes, divergences, the rule and the switches behind each outcome).
// Exit 0, 2 on bad input.

import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../golden/atomic.js';
import { compareSelection, reportHtml } from '../report/index.js';
import { loadTrace } from '../trace/index.js';
import { selectionsFor } from './selections.js';

interface ReportFlags {
  output: string;
  kernel?: string;
  vmm?: string;
  compare?: string;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('one self-contained HTML page of a replay: timeline, device-state lanes, divergences, rules and their switches')
    .argument('<trace>', 'trace file (.pb, or its .txt text twin)')
    .requiredOption('-o, --output <file.html>', 'the page to write (replaced atomically)')
    .option('--kernel <version>', 'kernel model version (default: from the trace header)')
    .option('--vmm <version>', 'VMM model version or "none" (default: from the trace header)')
    .option('--compare <version>', 'a second version side by side: a kernel, a VMM, "none" or KERNEL+VMM')
    .addHelpText(
      'after',
      '\nExit status: 0, 2 bad input.\nExample:\n  npx vfio-replay report traces/seeds/002-guest-d3hot-mmio/guest-d3hot-mmio.pb --vmm openvmm-3336 --compare openvmm-3609 -o seed002.html',
    )
    .action(async (file: string, flags: ReportFlags) => {
      if (!flags.output.endsWith('.html')) throw new UserError(`-o wants an .html path, got "${flags.output}"`);
      const trace = await loadTrace(file);
      const [main] = selectionsFor(trace.header, flags, (w) => process.stderr.write(`vfio-replay: warning: ${w}\n`));
      const compare = flags.compare === undefined ? undefined : compareSelection(main, flags.compare);
      const html = await reportHtml(trace, file, main, compare);
      try {
        writeFileAtomic(flags.output, html);
      } catch (err) {
        throw new UserError(`cannot write the report: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: flags.output });
      }
      process.stdout.write(`wrote ${flags.output} (${trace.events.length} events)\n`);
    });
}
