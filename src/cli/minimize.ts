// `vfio-replay minimize t.pb --outcome vmm-exit`: the few events (and header facts) that still
// show the goal, written as a binary trace and its text twin, with the outcome log of the result.
// Exit 0 = minimized, 2 = bad input (including a goal the trace does not show).

import type { Command } from 'commander';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { replayAt } from '../bisect/replay.js';
import { writeFileAtomic } from '../golden/atomic.js';
import { selectionToken } from '../golden/naming.js';
import { describeGoal, minimizeTrace, type Goal } from '../minimize/index.js';
import { encodeTrace, loadTrace, printText } from '../trace/index.js';
import { parseEvent } from './bisect.js';
import { ProgressLine } from './progress.js';
import { selectionsFor, type SelectionFlags } from './selections.js';

interface MinimizeFlags extends SelectionFlags {
  event?: string;
  divergence?: boolean;
  outcome?: string;
  output?: string;
}

export function register(program: Command): void {
  program
    .command('minimize')
    .description('shrink a trace to the events that still show one outcome, divergence or difference between versions')
    .argument('<trace>', 'trace file (.pb, or its .txt text twin)')
    .option('--event <n>', 'keep the outcome of event n (0-based, as in the outcome log)')
    .option('--divergence', 'keep the first divergence from the observed outcomes')
    .option('--outcome <term>', 'keep "some event ends like this": SIGBUS, vmm-exit, ENODEV, hazard, ... (a|b for either)')
    .option('--kernel <version>', 'kernel model version (default: from the trace header)')
    .option('--vmm <version>', 'VMM model version or "none" (default: from the trace header)')
    .option('--versions <list>', 'several selections, KERNEL[+VMM] comma-separated: what each sees is kept (a difference between them stays a difference)')
    .option('-o, --output <file.pb>', 'where to write the result (and its .txt twin beside it); default NAME.min.pb next to the trace')
    .addHelpText(
      'after',
      [
        '',
        'Exit status: 0 minimized, 2 bad input or a goal the trace does not show.',
        'Examples:',
        '  npx vfio-replay minimize traces/qemu/7.2/d3hot-read.pb --outcome vmm-exit -o /tmp/d3hot-read.min.pb',
        '  npx vfio-replay minimize traces/seeds/002-guest-d3hot-mmio/guest-d3hot-mmio.pb --outcome vmm-exit \\',
        '      --versions linux-6.19+openvmm-3336,linux-6.19+openvmm-3609',
      ].join('\n'),
    )
    .action(async (trace: string, flags: MinimizeFlags) => {
      process.exitCode = await runMinimize(trace, flags);
    });
}

function goalOf(flags: MinimizeFlags): Goal {
  const given = [flags.event !== undefined, flags.divergence === true, flags.outcome !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UserError('minimize wants exactly one goal: --event N, --divergence or --outcome TERM');
  if (flags.event !== undefined) return { kind: 'event', index: parseEvent(flags.event)! };
  if (flags.outcome !== undefined) {
    const terms = flags.outcome.split('|').map((t) => t.trim());
    if (terms.some((t) => t === '')) throw new UserError(`--outcome wants a term like SIGBUS, vmm-exit or ENODEV, got "${flags.outcome}"`);
    return { kind: 'outcome', terms };
  }
  return { kind: 'divergence' };
}

function outputPaths(trace: string, output: string | undefined): { pb: string; txt: string } {
  const pb = output ?? join(dirname(trace), basename(trace).replace(/\.(pb|txt)$/, '') + '.min.pb');
  if (!pb.endsWith('.pb')) throw new UserError(`-o wants a .pb path (the .txt twin is written beside it), got "${pb}"`);
  return { pb, txt: pb.slice(0, -3) + '.txt' };
}

async function runMinimize(file: string, flags: MinimizeFlags): Promise<number> {
  const goal = goalOf(flags);
  const out = outputPaths(file, flags.output);
  const trace = await loadTrace(file);
  const selections = selectionsFor(trace.header, flags, (w) => process.stderr.write(`vfio-replay: warning: ${w}\n`), file);
  const progress = new ProgressLine();
  const result = minimizeTrace(trace, file, goal, selections, (p) =>
    progress.show(`minimize: ${p.pass}, ${p.events} events left, ${p.replays} replays`),
  );
  progress.clear();
  try {
    writeFileAtomic(out.pb, encodeTrace(result.trace));
    writeFileAtomic(out.txt, printText(result.trace));
  } catch (err) {
    throw new UserError(`cannot write the result: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: out.pb });
  }
  const lines: string[] = [];
  const under = selections.map(selectionToken).join(', ');
  lines.push(`minimize ${file}: keep ${describeGoal(goal)} under ${under}`);
  lines.push(
    `  ${result.before} events -> ${result.trace.events.length}, ${result.replays} replays ` +
      `(${(result.replays / Math.max(1, result.before)).toFixed(1)} per original event)`,
  );
  selections.forEach((sel, i) => lines.push(`  ${selectionToken(sel)}: ${result.kept[i] === '' ? 'does not happen' : result.kept[i]}`));
  lines.push(`wrote ${out.pb} and ${out.txt}`);
  for (const sel of selections) {
    lines.push('', `outcome log under ${selectionToken(sel)} (original event index in brackets):`);
    const run = replayAt(result.trace, { id: selectionToken(sel), kernel: sel.kernel, vmm: sel.vmm });
    for (const e of run.events) lines.push(`${e.line}  (was #${result.origin[e.index]})`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
