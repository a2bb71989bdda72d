// `vfio-replay matrix t.pb`: the outcome of one event (or each cell's first failing event) under
// every kernel version x every VMM version. Exit 0, 2 on bad input.

import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { outcomeMatrix } from '../matrix/index.js';
import { matrixJson, matrixMarkdown, matrixText } from '../matrix/render.js';
import { loadTrace } from '../trace/index.js';
import { parseEvent } from './bisect.js';

interface MatrixFlags {
  event?: string;
  kernels?: string;
  vmms?: string;
  json?: boolean;
  markdown?: boolean;
}

export function register(program: Command): void {
  program
    .command('matrix')
    .description('the outcome of an event under every kernel version x every VMM version, with the rule')
    .argument('<trace>', 'trace file (.pb, or its .txt text twin)')
    .option('--event <n>', 'the event each cell shows (default: each cell\'s first failing event)')
    .option('--kernels <list>', 'kernel versions, comma-separated (default: every release, point release and series version)')
    .option('--vmms <list>', 'VMM versions, comma-separated, "none" for no VMM (default: every VMM when the trace has guest events)')
    .option('--json', 'the matrix as one JSON object')
    .option('--markdown', 'the matrix as a Markdown table (for a report or a mailing list)')
    .addHelpText(
      'after',
      [
        '',
        'Exit status: 0, 2 bad input.',
        'Examples:',
        '  npx vfio-replay matrix traces/seeds/002-guest-d3hot-mmio/guest-d3hot-mmio.pb --event 4 --kernels linux-6.12,linux-6.19',
        '  npx vfio-replay matrix traces/seeds/001-dmabuf-unmappable-bar/dmabuf-unmappable-bar.pb --markdown',
      ].join('\n'),
    )
    .action(async (trace: string, flags: MatrixFlags) => {
      if (flags.json === true && flags.markdown === true) throw new UserError('--json and --markdown: pick one');
      const list = (s: string | undefined): string[] | undefined => (s === undefined ? undefined : s.split(',').map((x) => x.trim()));
      const t = await loadTrace(trace);
      const m = outcomeMatrix(t, trace, {
        event: parseEvent(flags.event),
        kernels: list(flags.kernels),
        vmms: list(flags.vmms)?.map((v) => (v === 'none' ? null : v)),
      });
      if (flags.json === true) process.stdout.write(JSON.stringify(matrixJson(m, trace), null, 2) + '\n');
      else if (flags.markdown === true) process.stdout.write(matrixMarkdown(m, trace));
      else process.stdout.write(matrixText(m, trace));
    });
}
