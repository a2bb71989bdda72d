// The lab is the judge: every host operation the real kernel ran in the lab replays through the
// kernel model with the same outcome, and every config-space read returns exactly the bytes the
// real kernel returned (vconfig is knowable), as does every UNMAP_DMA's unmapped size
// (src/lab/random/differential.ts). Covered: traces/lab/<release>/ (QEMU e1000e under 6.1, 6.12
// and 7.2), traces/lab/<release>/<device>/ (the other lab devices) and traces/lab/found/<release>/
// (sequences the random campaign found and shrank; they replay clean once the model is fixed).
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseText } from '../../../src/trace/text-parse.js';
import { disagreements } from '../../../src/lab/random/differential.js';

const LAB = join(import.meta.dirname, '../../../traces/lab');
const isRelease = (n: string): boolean => /^\d+\.\d+/.test(n);
const releases = existsSync(LAB) ? readdirSync(LAB).filter(isRelease) : [];

/** [label, directory, release] for every folder of lab traces. */
const dirs: [string, string, string][] = [];
for (const rel of releases) {
  dirs.push([rel, join(LAB, rel), rel]);
  for (const sub of readdirSync(join(LAB, rel))) {
    if (statSync(join(LAB, rel, sub)).isDirectory()) dirs.push([`${rel}/${sub}`, join(LAB, rel, sub), rel]);
  }
}
const found = join(LAB, 'found');
if (existsSync(found)) for (const rel of readdirSync(found).filter(isRelease)) dirs.push([`found/${rel}`, join(found, rel), rel]);

const withTraces = dirs.filter(([, d]) => readdirSync(d).some((f) => f.endsWith('.txt') && f !== 'device-traits.txt'));

describe.each(withTraces)('lab traces in %s', (_label, dir, rel) => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt') && f !== 'device-traits.txt');
  it.each(files)('%s matches the real kernel', (file) => {
    const trace = parseText(readFileSync(join(dir, file), 'utf8'), file);
    // Devices with other traits (a PM capability that refuses every transition, no reset method,
    // FLR that clears nothing) carry them in the header's device-traits line, from the lab probe:
    // the model predicts from them, so no disagreement is tolerated here either.
    // The model version the capture is checked under: its .versions file names it when the lab
    // kernel's point release matters (6.1.192 carries catalog bug fork-untracked-ptes), else the release.
    const listed = join(dir, file.replace(/\.txt$/, '.versions'));
    const first = existsSync(listed) ? readFileSync(listed, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).find((l) => l !== '') : undefined;
    // A built kernel's folder (6.12-iommufd) is checked against its release's model.
    const ds = disagreements(trace, first ?? `linux-${rel.replace(/-[a-z].*$/, '')}`);
    const problems = ds.map((d) => `#${d.index} ${d.event}: predicted ${d.predicted} [${d.rule}], observed ${d.observed}`);
    expect(problems).toEqual([]);
  });
});
