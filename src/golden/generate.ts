// Renders the golden text of one trace under one model selection: what `check` compares and what
// `check --update` writes. Same trace + same versions = byte-identical text (the models are pure).

import { relative, dirname } from 'node:path';
import { replayFile, type ReplaySummary } from '../replay/run.js';
import type { ModelSelection } from '../replay/engine.js';
import { renderGoldenHead, renderGoldenTail } from './golden-file.js';

export interface RenderedGolden {
  text: string;
  summary: ReplaySummary;
}

/**
 * Where the golden text goes as the replay produces it, in order: the head once, then each line
 * (without its newline), then the tail. The text is head + every line followed by '\n' + tail.
 */
export interface GoldenSink {
  head(text: string): void;
  line(line: string): void;
  tail(text: string): void;
}

/** Replays the trace and hands its golden text to `sink` piece by piece (see GoldenSink). */
export async function streamGolden(tracePath: string, goldenPath: string, sel: ModelSelection, sink: GoldenSink, strictDevice = false): Promise<ReplaySummary> {
  const trace = relative(dirname(goldenPath), tracePath).split('\\').join('/');
  const summary = await replayFile(
    tracePath,
    { kernel: sel.kernel, vmm: sel.vmm, strictDevice },
    {
      start(s) {
        // The head names the first header's title; a later header is a line of the log.
        if (s.headerNumber === 1) sink.head(renderGoldenHead({ trace, selection: sel, title: s.header.title }));
        else sink.line(`-- header ${s.headerNumber}: ${s.header.device.bdf} (models reset) --`);
      },
      event(line) {
        sink.line(line);
      },
    },
  );
  sink.tail(renderGoldenTail(summary));
  return summary;
}

export async function renderGolden(tracePath: string, goldenPath: string, sel: ModelSelection, strictDevice = false): Promise<RenderedGolden> {
  let head = '';
  let tail = '';
  const lines: string[] = [];
  const summary = await streamGolden(
    tracePath,
    goldenPath,
    sel,
    {
      head: (t) => (head = t),
      line: (l) => lines.push(l),
      tail: (t) => (tail = t),
    },
    strictDevice,
  );
  return { text: head + lines.join('\n') + (lines.length > 0 ? '\n' : '') + tail, summary };
}
