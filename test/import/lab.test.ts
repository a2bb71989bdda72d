// The lab's strace captures of the REAL vfio-pci driver (traces/lab/<kernel>/*.strace, recorded
// with the trace's host operations run in a real kernel) import into traces that replay exactly as
// the lab's own traces do: same divergences (zero where the lab's trace has zero), and the imported
// events are the lab's events, in order, minus what strace cannot see (successful CPU accesses
// through mappings, struct arguments of info queries; a faulting access is compared by place and
// signal, see `key`). Device ioctls whose struct strace does not
// show (SET_IRQS, FEATURE, ...) import as `raw` and replay as unsupported: those captures are
// checked for decoding only.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTrace } from '../../src/import/importer.js';
import { replayFile } from '../../src/replay/run.js';
import { encodeTrace, loadTrace } from '../../src/trace/codec.js';
import { describeEvent, describeObserved } from '../../src/trace/text-print.js';
import type { Trace } from '../../src/trace/types.js';
import { repo } from './helpers.js';

const labRoot = join(repo, 'traces/lab');
const captures: [string, string][] = existsSync(labRoot)
  ? readdirSync(labRoot).flatMap((k) =>
      readdirSync(join(labRoot, k))
        .filter((f) => f.endsWith('.strace') && existsSync(join(labRoot, k, f.replace(/\.strace$/, '.pb'))))
        .map((f): [string, string] => [k, f.replace(/\.strace$/, '')]),
    )
  : [];
const scratch = mkdtempSync(join(tmpdir(), 'lab-import-'));

const line = (e: Trace['events'][number]): string => describeEvent(e) + (e.observed ? ` => ${describeObserved(e.observed)}` : '');

/**
 * A faulting CPU access as strace shows it: the place and the signal, not the width or direction
 * (the importer writes a 1-byte mem-read); the lab recorded what the program really did.
 */
const key = (e: Trace['events'][number]): string =>
  (e.kind === 'mem-read' || e.kind === 'mem-write') && e.observed?.signal
    ? `fault bar${e.bar}+${e.offset.toString(16)} => ${describeObserved(e.observed)}`
    : line(e);

async function summary(path: string) {
  return replayFile(path, {}, { event: () => undefined });
}

describe('lab captures of the real vfio-pci driver', { timeout: 60_000 }, () => {
  it('exist (the lab has run)', () => {
    expect(captures.length).toBeGreaterThan(0);
  });

  it.each(captures)('%s/%s imports and replays like the lab trace', async (kernel, name) => {
    const dir = join(labRoot, kernel);
    const lab = await loadTrace(join(dir, `${name}.pb`));
    const { trace } = importTrace({ strace: join(dir, `${name}.strace`), header: lab.header, tracerVersion: 't' });
    // Every imported event is the lab's next matching event (a subsequence, in order).
    const labLines = lab.events.map(key);
    let j = 0;
    for (const e of trace.events) {
      if (e.kind === 'ioctl' && e.op === 'raw') continue;
      const l = key(e);
      while (j < labLines.length && labLines[j] !== l) j++;
      expect(j, `imported "${l}" is not next in the lab trace`).toBeLessThan(labLines.length);
      j++;
    }
    const out = join(scratch, `${kernel}-${name}.pb`);
    writeFileSync(out, encodeTrace(trace));
    const mine = await summary(out);
    const theirs = await summary(join(dir, `${name}.pb`));
    const undecoded = trace.events.some((e) => e.kind === 'ioctl' && e.op === 'raw');
    if (!undecoded) {
      expect(mine.unsupported).toBe(0);
      expect(mine.divergences).toBe(theirs.divergences);
      if (theirs.divergences === 0) expect(mine.first).toBeNull();
    }
  });

  it('through the built CLI: import, then replay exits 0', () => {
    const cli = join(repo, 'dist/src/cli/main.js');
    const [kernel, name] = captures.find(([, n]) => n === 'bar-sizing') ?? captures[0]!;
    const dir = join(labRoot, kernel);
    const out = join(scratch, 'cli.pb');
    const imp = spawnSync(process.execPath, [cli, 'import', '--strace', join(dir, `${name}.strace`), '--header-from', join(dir, `${name}.pb`), '-o', out], { encoding: 'utf8' });
    expect(imp.stderr).toMatch(/events: /);
    expect(imp.status).toBe(0);
    const rep = spawnSync(process.execPath, [cli, 'replay', out, '--summary-only'], { encoding: 'utf8' });
    expect(rep.stdout).toMatch(/0 divergences, 0 unsupported/);
    expect(rep.status).toBe(0);
  });
});
