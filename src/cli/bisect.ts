// `vfio-replay bisect t.pb --series S`: which version changed this trace's outcome? Replays the
// trace over an ordered list of model versions (a series, a release range, a VMM family) with the
// other axis fixed, checks both ends, halves, and explains the change. Exit 0 when it answered
// (change found or not), 2 on bad input.

import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { bisectTrace } from '../bisect/index.js';
import { reportJson, reportText } from '../bisect/render.js';
import { colorizeDiff, useColor } from '../golden/diff.js';
import { loadTrace } from '../trace/index.js';

interface BisectFlags {
  series?: string;
  versions?: string;
  kernelRange?: string;
  vmmRange?: string;
  vmmFamily?: string;
  kernel?: string;
  vmm?: string;
  event?: string;
  old?: string;
  new?: string;
  all?: boolean;
  exact?: boolean;
  diff: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('bisect')
    .description('find the first model version whose outcome for a trace differs, along an ordered list of versions')
    .argument('<trace>', 'trace file (.pb, or its .txt text twin)')
    .option('--series <name>', 'a patch series: its base release, then its versions (e.g. barmap-at-enable)')
    .option('--kernel-range <from..to>', 'kernel releases from..to; to may be a series version (linux-5.7..block-disabled-mmio@v3)')
    .option('--versions <a,b,c>', 'exactly these versions, in this order (kernel or VMM; "@v2" continues the previous series)')
    .option('--vmm-range <from..to>', 'VMM versions of one family, from..to (qemu-7.2..qemu-10.0)')
    .option('--vmm-family <name>', 'every version of one VMM: qemu, openvmm, cloud-hypervisor')
    .option('--kernel <version>', 'the kernel held fixed while the VMM varies (default: from the trace header)')
    .option('--vmm <version>', 'the VMM held fixed while the kernel varies, or "none" (default: from the trace header)')
    .option('--event <n>', 'watch only event n (0-based, as in the outcome log) instead of the whole log')
    .option('--old <term>', 'a version is old when the watched outcome matches this (ok, -EIO, SIGBUS, hazard, ...)')
    .option('--new <term>', 'a version is new when the watched outcome matches this; matching neither = skip; one term alone = "anything else" for the other')
    .option('--exact', 'compare whole outcome-log lines (rule names and effect order count as changes)')
    .option('--all', 'replay every version and print the transition table')
    .option('--no-diff', 'leave out the unified diff of the two outcome logs at the change')
    .option('--json', 'the result (and table) as one JSON object')
    .addHelpText(
      'after',
      [
        '',
        'A version that cannot express the trace (an event replays as `unsupported`) is skipped, like',
        "git bisect run's exit 125. --series with --kernel-range splices the series in after its base.",
        'Exit status: 0 answered (change found or not), 2 bad input.',
        'Examples:',
        '  npx vfio-replay bisect traces/seeds/001-dmabuf-unmappable-bar/dmabuf-unmappable-bar.pb --series dmabuf-unmappable-bars',
        '  npx vfio-replay bisect traces/seeds/003-barmap-at-enable/export-unreserved-bar.pb --series barmap-at-enable --event 2 --new ENODEV',
        '  npx vfio-replay bisect traces/seeds/004-mse-live-mappings/mse-live-mappings.pb --kernel-range linux-5.7..linux-5.8 --series block-disabled-mmio --all',
        '  npx vfio-replay bisect traces/seeds/002-guest-d3hot-mmio/guest-d3hot-mmio.pb --vmm-family openvmm --kernel linux-6.19 --event 4 --old all-ones --new vmm-exit',
      ].join('\n'),
    )
    .action(async (trace: string, flags: BisectFlags) => {
      process.exitCode = await runBisect(trace, flags);
    });
}

export function parseEvent(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const digits = text.startsWith('#') ? text.slice(1) : text;
  const n = /^\d+$/.test(digits) ? Number(digits) : NaN;
  if (!Number.isInteger(n)) throw new UserError(`--event wants an event index (0, 1, ... or #0012), got "${text}"`);
  return n;
}

async function runBisect(file: string, flags: BisectFlags): Promise<number> {
  const event = parseEvent(flags.event);
  const trace = await loadTrace(file);
  const { report, context, warnings, predicate } = bisectTrace(trace, file, { ...flags, event });
  for (const w of warnings) process.stderr.write(`vfio-replay: warning: ${w}\n`);
  if (flags.json === true) {
    process.stdout.write(JSON.stringify(reportJson(report, context), null, 2) + '\n');
    return 0;
  }
  const text = reportText(report, context, predicate.kind === 'terms', flags.diff);
  process.stdout.write(useColor(process.stdout) ? colorizeDiff(text) : text);
  return 0;
}
