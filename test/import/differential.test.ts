// Differential check of the importer's plumbing (issue 19 item 3 / issue 20: bounded-memory
// import): every committed capture imports to exactly the trace and report it imported to when the
// digests were recorded. The streaming readers, the in-step ioctl-argument matcher, the k-way merge
// of -ff files and the windowed merges must not change one byte of any real capture's import.
//
// A change that is MEANT to change an import (a new event kind, a decoding fix) records the new
// digests with
//   UPDATE_IMPORT_DIGESTS=1 npx vitest run test/import/differential.test.ts
// and the diff of test/fixtures/import/import-digests.json shows which captures it touched.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTrace, renderReport, type ImportInputs } from '../../src/import/importer.js';
import { encodeTrace } from '../../src/trace/codec.js';
import { repo } from './helpers.js';

const digestFile = join(repo, 'test/fixtures/import/import-digests.json');
const update = process.env.UPDATE_IMPORT_DIGESTS === '1';

const dirs = (p: string): string[] => (existsSync(p) ? readdirSync(p).filter((f) => statSync(join(p, f)).isDirectory()).sort() : []);
const files = (p: string, ext: string): string[] => (existsSync(p) ? readdirSync(p).filter((f) => f.endsWith(ext)).sort() : []);
const rel = (p: string): string => relative(repo, p);

/** Every committed capture and the inputs it is imported from (as the tests and the lab import it). */
function captures(): [string, Omit<ImportInputs, 'tracerVersion'>][] {
  const out: [string, Omit<ImportInputs, 'tracerVersion'>][] = [];
  // Tracer output directories of real QEMU sessions: strace + ioctl-args + QEMU log (time merge).
  const qemu = join(repo, 'traces/qemu');
  for (const v of dirs(qemu)) for (const s of dirs(join(qemu, v))) if (existsSync(join(qemu, v, s, 'info'))) out.push([rel(join(qemu, v, s)), { dir: join(qemu, v, s) }]);
  // The same sessions as a user without the tracer has them (sequence-aligned merge, no clock).
  const plain = join(repo, 'traces/qemu-plain');
  for (const v of dirs(plain))
    for (const r of dirs(join(plain, v))) {
      const d = join(plain, v, r);
      const fs = ['qemu.strace', 'qemu-trace.log', 'libvirt.log', 'lspci.txt', 'dmesg.txt'].map((f) => join(d, f)).filter((f) => existsSync(f));
      out.push([rel(d), { files: fs }]);
      // strace and QEMU log alone: no snapshot, the device inferred from the QEMU log.
      if (existsSync(join(d, 'qemu.strace')) && existsSync(join(d, 'qemu-trace.log')))
        out.push([`${rel(d)} (strace + QEMU log)`, { strace: join(d, 'qemu.strace'), qemuLog: join(d, 'qemu-trace.log') }]);
    }
  // The lab's captures (strace + ioctl-args, no snapshot) and the kprobe-mode ones.
  for (const root of [join(repo, 'traces/lab'), join(repo, 'test/fixtures/import/lab-kprobe')])
    for (const k of dirs(root))
      for (const f of files(join(root, k), '.strace')) {
        const s = join(root, k, f);
        const a = s.replace(/\.strace$/, '.ioctl-args');
        out.push([rel(s), { strace: s, ...(existsSync(a) ? { ioctlArgs: a } : {}), allowEmpty: true }]);
      }
  // fake-vmm under every strace flag combination, and -ff (one file per task; ff-forked: with a
  // forked child and a thread, clone traced).
  const strace = join(repo, 'test/fixtures/import/strace');
  for (const f of files(strace, '.strace')) out.push([rel(join(strace, f)), { strace: join(strace, f), allowEmpty: true }]);
  for (const ff of ['ff', 'ff-forked']) out.push([rel(join(strace, ff)), { files: readdirSync(join(strace, ff)).sort().map((f) => join(strace, ff, f)), allowEmpty: true }]);
  // Real captures as strace -ff files (split by task): with a stamped QEMU log, and without a clock.
  const split = join(repo, 'test/fixtures/import/ff-split');
  for (const d of dirs(split)) {
    const tasks = files(join(split, d), '').filter((f) => /^strace\.\d+$/.test(f)).map((f) => join(split, d, f));
    const others = existsSync(join(split, d, 'info')) ? [join(split, d)] : ['qemu-trace.log', 'lspci.txt'].map((f) => join(split, d, f));
    out.push([rel(join(split, d)), { files: [...others, ...tasks] }]);
  }
  return out;
}

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex').slice(0, 32);

/** What an import produced: the trace's bytes and the report, or the one-line error. */
function digest(inputs: Omit<ImportInputs, 'tracerVersion'>): string {
  try {
    const { trace, report } = importTrace({ ...inputs, tracerVersion: 'differential' });
    // The report names the input files: digested relative to the checkout, wherever that is.
    return `${trace.events.length} events trace=${sha(encodeTrace(trace))} report=${sha(renderReport(trace, report).split(repo).join('<repo>'))}`;
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

const all = captures();
const recorded: Record<string, string> = existsSync(digestFile) ? (JSON.parse(readFileSync(digestFile, 'utf8')) as Record<string, string>) : {};

describe('every committed capture imports exactly as recorded', { timeout: 120_000 }, () => {
  it('covers tracer directories, plain captures, lab captures, kprobe captures and strace fixtures', () => {
    const names = all.map(([n]) => n);
    for (const prefix of ['traces/qemu/', 'traces/qemu-plain/', 'traces/lab/', 'test/fixtures/import/lab-kprobe/', 'test/fixtures/import/strace/', 'test/fixtures/import/ff-split/'])
      expect(names.filter((n) => n.startsWith(prefix)).length, prefix).toBeGreaterThan(0);
  });

  if (update) {
    it('records the digests', () => {
      const d: Record<string, string> = {};
      for (const [name, inputs] of all) d[name] = digest(inputs);
      writeFileSync(digestFile, JSON.stringify(d, null, 1) + '\n');
    });
    return;
  }

  it.each(all)('%s', (name, inputs) => {
    expect(recorded[name], `no recorded digest for ${name}: record with UPDATE_IMPORT_DIGESTS=1`).toBeDefined();
    expect(digest(inputs)).toBe(recorded[name]);
  });
});
