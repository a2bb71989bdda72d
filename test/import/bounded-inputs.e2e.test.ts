// The built CLI on the inputs whose import became bounded last (issue 19 item 3): `strace -ff`
// files (one per task) and logs without a shared clock (sequence alignment). What it writes must
// be byte for byte what the whole-input merge gives (importTrace with holdWhole), as it was before
// these imports streamed.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { straceByTask } from '../../bench/import-inputs.js';
import { importTrace } from '../../src/import/importer.js';
import { encodeTrace } from '../../src/trace/codec.js';
import { repo, straceDir } from './helpers.js';

const cli = join(repo, 'dist/src/cli/main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

function importsAsWhole(files: string[], flags: string[], opts: { allowEmpty?: boolean; vmmVersion?: string }): string {
  const out = join(mkdtempSync(join(tmpdir(), 'import-bounded-')), 'out.pb');
  const r = run(['import', ...files, ...flags, '-o', out]);
  expect(r.stderr.split('\n')[0], r.stderr).toMatch(/^\d+ events: /);
  expect(r.status).toBe(0);
  const whole = importTrace({ files, ...opts, tracerVersion: `vfio-replay import ${(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version}`, holdWhole: true });
  expect(Buffer.from(readFileSync(out)).equals(Buffer.from(encodeTrace(whole.trace)))).toBe(true);
  return r.stderr;
}

describe('vfio-replay import of -ff files and unstamped logs (built CLI)', { timeout: 120_000 }, () => {
  it('a tracer directory whose strace is -ff files (a real QEMU session split by task as strace -ff writes it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'import-ff-dir-'));
    const src = join(repo, 'traces/qemu/10.0/bar-move');
    for (const f of ['info', 'qemu.log', 'ioctl-args', 'sysfs']) cpSync(join(src, f), join(dir, f), { recursive: true });
    const tasks = straceByTask(readFileSync(join(src, 'strace.log'), 'latin1'));
    for (const [pid, text] of tasks) writeFileSync(join(dir, `strace.${pid}`), text, 'latin1');
    const files = [dir, ...[...tasks.keys()].map((pid) => join(dir, `strace.${pid}`))];
    const err = importsAsWhole(files, ['--vmm-version', '10.0.13'], { vmmVersion: '10.0.13' });
    expect(err).toMatch(new RegExp(`strace ${dir}/strace\\.\\d*\\* \\(${tasks.size} files\\): \\d+ lines \\(clock tod\\)`));
    expect(err).toMatch(/host calls that were the VMM serving a logged guest access \(merged\): \d+/);
  });

  it('a real strace -ff capture with a forked child and a thread', () => {
    const d = join(straceDir, 'ff-forked');
    const err = importsAsWhole(readdirSync(d).sort().map((f) => join(d, f)), ['--allow-empty'], { allowEmpty: true });
    expect(err).toMatch(/^35 events: fork 1, /);
  });

  it('strace and a QEMU log without a shared clock (a plain capture: aligned by the accesses both show)', () => {
    const d = join(repo, 'traces/qemu-plain/7.2/d3hot-read.attach');
    const err = importsAsWhole(['qemu.strace', 'qemu-trace.log', 'lspci.txt'].map((f) => join(d, f)), [], {});
    expect(err).toMatch(/note: the strace and QEMU logs share no clock/);
    expect(err).toMatch(/faults in BAR mappings the guest had \(the guest access that faulted\): 1/);
  });
});
