// Bisect's in-memory replay renders exactly the lines the streaming `replay` does (and so the
// goldens), so a bisect diff reads like a golden diff. Checked on every seed trace under every
// selection its .versions listing names.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayAt } from '../../src/bisect/replay.js';
import { replayFile } from '../../src/replay/run.js';
import { loadTrace } from '../../src/trace/index.js';

const SEEDS = 'traces/seeds';

function cases(): { trace: string; kernel: string; vmm: string | null }[] {
  const out: { trace: string; kernel: string; vmm: string | null }[] = [];
  for (const dir of readdirSync(SEEDS)) {
    for (const f of readdirSync(join(SEEDS, dir))) {
      if (!f.endsWith('.versions')) continue;
      for (const raw of readFileSync(join(SEEDS, dir, f), 'utf8').split('\n')) {
        const line = raw.replace(/#.*/, '').trim();
        if (line === '') continue;
        const [kernel, vmm] = line.split('+');
        out.push({ trace: join(SEEDS, dir, f.replace(/\.versions$/, '.txt')), kernel, vmm: vmm ?? null });
      }
    }
  }
  return out;
}

describe('replayAt renders the outcome log as replay does', () => {
  it('has cases', () => {
    expect(cases().length).toBeGreaterThanOrEqual(20);
  });
  it.each(cases().map((c) => [`${c.trace} @ ${c.kernel}${c.vmm === null ? '' : '+' + c.vmm}`, c] as const))('%s', async (_name, c) => {
    const streamed: string[] = [];
    await replayFile(c.trace, { kernel: c.kernel, vmm: c.vmm }, { event: (line) => void streamed.push(line) });
    const trace = await loadTrace(c.trace);
    expect(replayAt(trace, { id: c.kernel, kernel: c.kernel, vmm: c.vmm }).events.map((e) => e.line)).toEqual(streamed);
  });
});
