// journalctl -k in each of its short output forms (real journalctl runs over a journal that
// systemd-journal-remote wrote from a real lab dmesg: test/fixtures/import/journal/capture.sh)
// reads to what the dmesg itself gives: the kernel release, the same lines about the device, the
// same refused D-states; every line is counted (used, skipped, not understood), and each file is
// told apart by its content.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectKind } from '../../src/import/detect.js';
import { readKernelLog } from '../../src/import/dmesg.js';
import { textLines } from '../../src/import/lines.js';
import { repo } from './helpers.js';

const dir = join(repo, 'test/fixtures/import/journal');
const dmesgFile = join(repo, 'test/fixtures/import/refusing-device/dmesg-6.12-i82559er.txt');
const BDF = '0000:00:03.0';
const read = (file: string) => readKernelLog(textLines(readFileSync(file, 'latin1'), file), BDF);
const text = (l: string) => l.replace(/^[^:]*:\d+: /, '');

const reference = read(dmesgFile);
const formats = readdirSync(dir).filter((f) => /^journal-.*\.txt$/.test(f));

describe('journalctl -k output forms', () => {
  it('the fixtures cover -o short, short-iso, short-monotonic, short-precise (and iso-precise, full, unix)', () => {
    expect(formats.map((f) => f.slice('journal-'.length, -'.txt'.length)).sort()).toEqual(
      ['short', 'short-full', 'short-iso', 'short-iso-precise', 'short-monotonic', 'short-precise', 'short-unix'].sort(),
    );
    expect(reference.kernelRelease).toBe('6.12.117+deb13-amd64');
    expect(reference.deviceLines.length).toBeGreaterThan(5);
  });
  it.each(formats)('%s: detected as a kernel log, read to what the dmesg gives, every line counted', (f) => {
    const file = join(dir, f);
    expect(detectKind(file)).toBe('kernel-log');
    const k = read(file);
    expect(k.kernelRelease).toBe(reference.kernelRelease);
    expect(k.deviceLines.map(text)).toEqual(reference.deviceLines.map(text));
    expect(k.pmRefuses).toEqual(reference.pmRefuses);
    expect(k.unknownLines).toBe(0);
    expect(k.vfioLines).toBe(reference.vfioLines);
    expect(k.otherLines + k.vfioLines + k.deviceLines.length + k.markerLines + 1).toBe(k.lines); // +1: Linux version
  });
  it('a line with no dmesg or journal prefix is counted as not understood', () => {
    const k = readKernelLog(textLines('[    1.000000] vfio-pci 0000:00:03.0: enabling device (0000 -> 0002)\n-- Boot 6b1d1c5e0c9a4d4f8d0e2b7a3c1f9e01 --\nsomething else\n', 'x'), BDF);
    expect(k).toMatchObject({ lines: 3, markerLines: 1, unknownLines: 1 });
    expect(k.deviceLines).toHaveLength(1);
  });
});
