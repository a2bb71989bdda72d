// Garbage and truncation never crash the importers: every input either imports or fails with a
// UserError that says where (file and line).
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { importTrace } from '../../src/import/importer.js';
import { straceDir } from './helpers.js';
import { renderLine } from './qemu-render.js';

const scratch = mkdtempSync(join(tmpdir(), 'import-prop-'));
let n = 0;
function tryImport(kind: 'strace' | 'qemuLog', text: string): void {
  const f = join(scratch, `in-${n++}.log`);
  writeFileSync(f, text, 'latin1');
  try {
    importTrace({ [kind]: f, tracerVersion: 't' });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    expect(e.location.file).toBe(f);
    // Messages about a line say which; whole-file messages (nothing to interleave, ...) need not.
    if (e.location.line !== undefined) expect(e.location.line).toBeGreaterThan(0);
  }
}

const straceText = readFileSync(join(straceDir, 'tracer-default.strace'), 'latin1');
const straceLines = straceText.split('\n');
const qemuText =
  [
    ['vfio_pci_read_config', ['0000:01:00.0', 0, 4, 0x10d38086]],
    ['pci_update_mappings_add', ['vfio-pci', 0, 3, 0, 0, 0xfebc0000n, 0x20000n]],
    ['vfio_region_read', ['0000:01:00.0', 0, 0x8n, 4, 0x12345678n]],
    ['vfio_pci_write_config', ['0000:01:00.0', 0xcc, 0x3, 2]],
    ['pci_pm_transition', ['vfio-pci', 0, 3, 0, 0, 3]],
  ]
    .map(([name, args], i) => renderLine({ name: name as string, args: args as (string | number | bigint)[], tid: 7, ns: 1_763_700_000_000_000_000n + BigInt(i) * 1000n }, 'tid'))
    .join('\n') + '\n';

// Characters strace and QEMU lines are made of, so garbage often looks almost right.
const lineChars = fc.constantFrom(...'0123456789abcdefx(){}[]<>",=?-+. \\:_/@|ABCDEFGHIJKLMNOPQRSTUVWXYZpreadwriteioctlmap'.split(''));
const garbageLine = fc.oneof(
  fc.string({ unit: lineChars, maxLength: 80 }),
  fc.string({ maxLength: 60 }),
  // A real line with a random cut or a random splice.
  fc.tuple(fc.constantFrom(...straceLines), fc.nat(), fc.string({ unit: lineChars, maxLength: 12 })).map(([l, k, s]) => l.slice(0, k % (l.length + 1)) + s),
);

describe('importer robustness (property)', { timeout: 60_000 }, () => {
  it('strace: garbage lines mixed into a real capture', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(straceLines.length), garbageLine), { maxLength: 6 }), (inserts) => {
        const lines = [...straceLines];
        for (const [at, g] of inserts) lines.splice(at, 0, g);
        tryImport('strace', lines.join('\n'));
      }),
      { numRuns: 150 },
    );
  });

  it('strace: a capture truncated at any byte', () => {
    fc.assert(
      fc.property(fc.nat(straceText.length), (cut) => tryImport('strace', straceText.slice(0, cut))),
      { numRuns: 150 },
    );
  });

  it('QEMU log: garbage lines and truncation', () => {
    const qLines = qemuText.split('\n');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(qLines.length), garbageLine), { maxLength: 6 }), fc.nat(qemuText.length), (inserts, cut) => {
        const lines = [...qLines];
        for (const [at, g] of inserts) lines.splice(at, 0, g);
        tryImport('qemuLog', lines.join('\n'));
        tryImport('qemuLog', qemuText.slice(0, cut));
      }),
      { numRuns: 150 },
    );
  });

  it('a cut last line is not an error: the VMM or strace died mid-line', () => {
    const cut = straceText.slice(0, straceText.indexOf('pread64', straceText.indexOf('vfio-device')) + 20);
    expect(() => importTrace({ strace: (writeFileSync(join(scratch, 'cut.log'), cut), join(scratch, 'cut.log')), tracerVersion: 't' })).not.toThrow();
  });
});
