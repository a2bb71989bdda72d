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

export async function renderGolden(tracePath: string, goldenPath: string, sel: ModelSelection, strictDevice = false): Promise<RenderedGolden> {
  const lines: string[] = [];
  let title = '';
  const summary = await replayFile(
    tracePath,
    { kernel: sel.kernel, vmm: sel.vmm, strictDevice },
    {
      start(s) {
        if (s.headerNumber === 1) title = s.header.title;
        else {
          lines.push(`-- header ${s.headerNumber}: ${s.header.device.bdf} (models reset) --`);
        }
      },
      event(line) {
        lines.push(line);
      },
    },
  );
  const trace = relative(dirname(goldenPath), tracePath).split('\\').join('/');
  const text =
    renderGoldenHead({ trace, selection: sel, title }) +
    lines.join('\n') +
    (lines.length > 0 ? '\n' : '') +
    renderGoldenTail(summary);
  return { text, summary };
}
