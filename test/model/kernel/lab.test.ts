// The lab is the judge: every host operation the real kernel ran in the lab (traces/lab/<release>/,
// QEMU e1000e under 6.1, 6.12 and 7.2) replays through the kernel model with the same outcome, and
// every config-space read returns exactly the bytes the real kernel returned (vconfig is knowable),
// as does every UNMAP_DMA's unmapped size.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseText } from '../../../src/trace/text-parse.js';
import { isGuestEvent, type HostEvent } from '../../../src/trace/types.js';
import { compareObserved } from '../../../src/replay/compare.js';
import { createKernelModel } from '../../../src/model/kernel/index.js';

const LAB = join(import.meta.dirname, '../../../traces/lab');
const releases = existsSync(LAB) ? readdirSync(LAB) : [];

describe.each(releases)('lab traces on linux-%s', (rel) => {
  const dir = join(LAB, rel);
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt'));
  it.each(files)('%s matches the real kernel', (file) => {
    const trace = parseText(readFileSync(join(dir, file), 'utf8'), file);
    const model = createKernelModel(trace.header.device, `linux-${rel}`);
    const problems: string[] = [];
    trace.events.forEach((e, i) => {
      if (isGuestEvent(e)) return;
      const s = model.host(e as HostEvent, e);
      const bad = compareObserved(s.outcome, e.observed, e);
      if (bad !== null) problems.push(`#${i} ${e.kind}: predicted ${JSON.stringify(s.outcome, (_, v) => (typeof v === 'bigint' ? String(v) : v))} [${s.rule}], observed ${bad}`);
      if (s.outcome.kind === 'unsupported') problems.push(`#${i} ${e.kind}: unsupported [${s.rule}]`);
      // Config reads return vconfig bytes; UNMAP_DMA writes back the bytes it unmapped: both knowable.
      const isCfgRead = e.kind === 'cfg-read' || (e.kind === 'region-read' && e.region === 7) || e.kind === 'unmap-dma';
      if (isCfgRead && e.observed?.data !== undefined && s.outcome.kind === 'ok' && s.outcome.data !== undefined) {
        const want = Buffer.from(e.observed.data).toString('hex');
        const got = Buffer.from(s.outcome.data).toString('hex');
        if (want !== got) problems.push(`#${i} ${e.kind}: data ${got}, real kernel ${want}`);
      }
    });
    expect(problems).toEqual([]);
  });
});
