// `vfio-replay promote <capture dir | t.pb> --to traces/<folder> --name NAME`: a capture becomes a
// regression test (trace, text twin, listing, goldens, README stub). Exit 0, 2 on bad input.

import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { selectionToken } from '../golden/naming.js';
import type { Goal } from '../minimize/index.js';
import type { Accelerator } from '../trace/types.js';
import { promote } from '../promote/index.js';
import { parseEvent } from './bisect.js';
import { ACCELS, packageVersion } from './import.js';

interface PromoteFlags {
  to: string;
  name: string;
  minimize?: boolean;
  event?: string;
  divergence?: boolean;
  outcome?: string;
  force?: boolean;
  vmm?: string;
  vmmVersion?: string;
  accel?: string;
  title?: string;
}

function goal(flags: PromoteFlags): Goal | undefined {
  const given = [flags.event !== undefined, flags.divergence === true, flags.outcome !== undefined].filter(Boolean).length;
  if (flags.minimize !== true) {
    if (given > 0) throw new UserError('--event/--divergence/--outcome say what --minimize keeps: add --minimize');
    return undefined;
  }
  if (given !== 1) throw new UserError('--minimize wants exactly one goal: --event N, --divergence or --outcome TERM');
  if (flags.event !== undefined) return { kind: 'event', index: parseEvent(flags.event)! };
  if (flags.outcome !== undefined) return { kind: 'outcome', terms: flags.outcome.split('|').map((t) => t.trim()) };
  return { kind: 'divergence' };
}

export function register(program: Command): void {
  program
    .command('promote')
    .description('add a capture or trace to the corpus: trace, text twin, .versions where the outcome differs, goldens, README stub')
    .argument('<source>', 'a vfio-trace capture folder (imported) or a trace (.pb / .txt)')
    .requiredOption('--to <folder>', 'corpus folder, e.g. traces/reports')
    .requiredOption('--name <name>', 'trace name (NAME.pb, NAME.txt, NAME.versions, NAME@...golden)')
    .option('--minimize', 'minimize first (with --event N, --divergence or --outcome TERM, as `minimize` takes them)')
    .option('--event <n>', 'with --minimize: keep the outcome of event n')
    .option('--divergence', 'with --minimize: keep the first divergence')
    .option('--outcome <term>', 'with --minimize: keep "some event ends like this" (SIGBUS, vmm-exit, ENODEV, ...)')
    .option('--force', 'replace a trace of the same name')
    .option('--vmm <name>', 'capture folder: the VMM (qemu, openvmm, ...) when the capture does not say')
    .option('--vmm-version <v>', 'capture folder: the VMM version (e.g. 7.2.22)')
    .option('--accel <a>', 'capture folder: kvm, tcg, mshv')
    .option('--title <text>', 'capture folder: the trace title (the bug report\'s)')
    .addHelpText(
      'after',
      [
        '',
        'Exit status: 0, 2 bad input.',
        'Example:',
        '  npx vfio-replay promote traces/qemu/7.2/d3hot-read --vmm qemu --vmm-version 7.2.22 --accel tcg \\\n      --to /tmp/corpus/reports --name qemu72-d3hot-read --minimize --outcome vmm-exit',
      ].join('\n'),
    )
    .action(async (source: string, flags: PromoteFlags) => {
      if (flags.accel !== undefined && !ACCELS.includes(flags.accel as Accelerator))
        throw new UserError(`--accel must be one of ${ACCELS.join(', ')}, not "${flags.accel}"`);
      const r = await promote({
        source,
        folder: flags.to,
        name: flags.name,
        minimize: goal(flags),
        force: flags.force === true,
        importOptions: {
          ...(flags.vmm !== undefined ? { vmm: flags.vmm } : {}),
          ...(flags.vmmVersion !== undefined ? { vmmVersion: flags.vmmVersion } : {}),
          ...(flags.accel !== undefined ? { accel: flags.accel as Accelerator } : {}),
          ...(flags.title !== undefined ? { title: flags.title } : {}),
        },
        tracerVersion: `vfio-replay import ${packageVersion()}`,
        warn: (w) => process.stderr.write(`vfio-replay: warning: ${w}\n`),
      });
      const lines = [
        `promote ${source}: ${r.imported ? 'imported' : 'loaded'} ${r.before} events` + (r.events !== r.before ? `, minimized to ${r.events}` : ''),
        `listed under ${r.listed.length} version${r.listed.length === 1 ? '' : 's'} (the trace's own, then one per other behavior):`,
        ...r.listed.map((l) => `  ${selectionToken(l.selection)}  ${l.why}`),
        'wrote:',
        ...r.written.map((w) => `  ${w}`),
        `next: fill in the README's TODO, then \`npx vfio-replay check ${flags.to}\` and commit`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
