// `vfio-replay replay t.pb`: the outcome log of one trace, event by event, with divergence marks
// and a summary. Exit 0 = no divergence, 1 = divergences, 2 = bad input.

import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { renderEffect, renderOutcome } from '../model/outcome.js';
import { LineWriter } from '../replay/output.js';
import { replayFile, type ReplayObserver } from '../replay/run.js';
import { formatSummary } from '../replay/summary.js';
import { GUEST_KINDS } from '../trace/types.js';
import { labTrace } from './lab-option.js';

interface ReplayFlags {
  kernel?: string;
  vmm?: string;
  json?: boolean;
  context: string;
  interleaving?: string;
  summaryOnly?: boolean;
  lab?: string;
  strictDevice?: boolean;
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('replay a trace through the model: the outcome log, divergences from the observed outcomes, a summary')
    .argument('<trace>', 'trace file (.pb, or its .txt text twin)')
    .option('--kernel <version>', 'kernel model version (default: from the trace header), e.g. linux-6.19, barmap-at-enable@v3')
    .option('--vmm <version>', 'VMM model version or "none" (default: from the trace header), e.g. openvmm-3609')
    .option('--json', 'one JSON object per line: start, one per event, summary')
    .option('--context <k>', 'events shown before the first divergence', '5')
    .option('--interleaving <k>', 'replay interleaving K (0 = trace order) of every race group (events sharing race=N) instead of the set of all')
    .option('--summary-only', 'print only the summary')
    .option('--strict-device', 'device notes (the trace showed the hardware state of the device otherwise than the model: adopted, not blamed on the model) count as divergences')
    .option('--lab <kernel>', 'first run the trace on the real kernel in the lab (6.1, 6.12, 7.2; minutes, root), then replay that: model vs real')
    .addHelpText(
      'after',
      '\nDevice notes (`device:`) are not divergences unless --strict-device.\nExit status: 0 no divergence, 1 divergences, 2 bad input.\nExample:\n  npx vfio-replay replay traces/seeds/004-mse-live-mappings/mse-live-mappings.pb --kernel linux-5.7',
    )
    .action(async (trace: string, flags: ReplayFlags) => {
      process.exitCode = await runReplay(flags.lab === undefined ? trace : labTrace(trace, flags.lab), flags);
    });
}

async function runReplay(trace: string, flags: ReplayFlags): Promise<number> {
  const context = Number(flags.context);
  if (!Number.isInteger(context) || context < 0) throw new UserError(`--context wants a whole number, got "${flags.context}"`);
  const interleaving = flags.interleaving === undefined ? undefined : Number(flags.interleaving);
  if (interleaving !== undefined && (!/^\d+$/.test(flags.interleaving ?? '') || !Number.isSafeInteger(interleaving)))
    throw new UserError(`--interleaving wants a whole number, got "${flags.interleaving}"`);
  const vmm = flags.vmm === undefined ? undefined : flags.vmm === 'none' ? null : flags.vmm;
  const out = new LineWriter(process.stdout);
  const json = flags.json === true;
  const quiet = flags.summaryOnly === true;
  const observer: ReplayObserver = {
    start(s) {
      for (const w of s.warnings) if (s.headerNumber === 1) process.stderr.write(`vfio-replay: warning: ${w}\n`);
      const vmmName = s.selection.vmm ?? 'none';
      if (json)
        out.line(JSON.stringify({ type: 'start', trace, header: s.headerNumber, kernel: s.selection.kernel, vmm: vmmName, title: s.header.title, warnings: s.warnings }));
      else if (s.headerNumber === 1) out.line(`replay ${trace}: kernel ${s.selection.kernel}, vmm ${vmmName}${s.header.title ? ` (${s.header.title})` : ''}`);
      else out.line(`-- header ${s.headerNumber}: ${s.header.device.bdf} (models reset) --`);
    },
    event: quiet
      ? () => undefined
      : json
        ? (_line, index, ev, st, divergence, note) =>
            out.line(
              JSON.stringify({
                type: 'event',
                index,
                seq: ev.seq.toString(),
                side: GUEST_KINDS.has(ev.kind) ? 'guest' : 'host',
                kind: ev.kind,
                line: _line,
                outcome: renderOutcome(st.outcome),
                outcomeKind: st.outcome.kind,
                effects: st.effects.map(renderEffect),
                rule: st.rule,
                divergence,
                deviceNote: note,
              }),
            )
        : (line) => out.line(line),
    flush: () => out.flush(),
    stopped: () => out.isClosed,
  };
  const summary = await replayFile(
    trace,
    { kernel: flags.kernel, vmm, context, strictDevice: flags.strictDevice === true, ...(interleaving !== undefined ? { interleaving } : {}) },
    observer,
  );
  if (json) {
    out.line(
      JSON.stringify({
        type: 'summary',
        events: summary.events,
        host: summary.host,
        guest: summary.guest,
        divergences: summary.divergences,
        unsupported: summary.unsupported,
        deviceNotes: summary.deviceNotes,
        kernel: summary.selection.kernel,
        vmm: summary.selection.vmm ?? 'none',
        first: summary.first,
        firstUnsupported: summary.firstUnsupported,
        firstDeviceNote: summary.firstDeviceNote,
        races: summary.races,
      }),
    );
  } else {
    if (!quiet) out.line('');
    for (const l of formatSummary(summary)) out.line(l);
  }
  await out.flush();
  return summary.divergences > 0 ? 1 : 0;
}
