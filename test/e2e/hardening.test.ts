// Issue 19's defects, each reproduced through the built CLI: every one now ends with exit 0/1/2 and
// at most one located line on stderr, never a stack trace or exit 70.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeTrace } from '../../src/trace/codec.js';
import { parseText } from '../../src/trace/text-parse.js';
import type { TraceHeader } from '../../src/trace/types.js';
import { assertBuilt, cli, run } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'vfio-harden-'));
/** A header holding only the format version. */
const emptyHeader = (): TraceHeader => parseText('vfio-trace 1\n', 'empty.txt').header;
const HEAD = 'vfio-trace 1\nsource hand-written\nkernel 6.12.1\ndevice 0000:01:00.0 8086:10d3\nbar 0 mem size=0x20000\n';

function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function expectOneLine(r: { code: number | null; stderr: string }, code: number, message: RegExp): void {
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
  expect(r.code).toBe(code);
}

describe('issue 19 defects through the built CLI', { timeout: 60_000 }, () => {
  assertBuilt();

  it('#1 an implicit sequence number past 2^64-1 is a located error for encode and dump', () => {
    const t = file('seq.txt', 'vfio-trace 1\nsource hand-written\n18446744073709551615 open\nclose\n');
    const enc = run(['encode', t, '-o', join(dir, 'seq.pb')], { cwd: dir });
    expectOneLine(enc, 2, /seq\.txt:4:1: sequence number 18446744073709551616 does not fit in 64 bits/);
    expect(existsSync(join(dir, 'seq.pb'))).toBe(false);
    expectOneLine(run(['dump', t], { cwd: dir }), 2, /seq\.txt:4:1: /);
    // The largest one given explicitly still works.
    const ok = file('seq-ok.txt', 'vfio-trace 1\nsource hand-written\n18446744073709551615 open\n');
    expect(run(['dump', ok], { cwd: dir }).stdout).toContain('18446744073709551615 open');
  });

  it('#2 an access length no CPU access can have is refused where it is read (text and binary)', () => {
    const t = file('len.txt', HEAD.replace('kernel 6.12.1\n', 'kernel 6.12.1\nvmm openvmm 3609 kvm\n') + 'guest-mmio-read 0xfe000008 len=2147483647\n');
    expectOneLine(run(['replay', t, '--kernel', 'linux-6.12'], { cwd: dir }), 2, /len\.txt:7:32: guest-mmio-read len=2147483647: one CPU access is 1 to 8 bytes/);
    const trace = { header: { ...emptyHeader(), kernelRelease: '6.12.1' }, events: [{ seq: 0n, tsNs: 0n, tid: 0, overlap: 0, kind: 'mem-read' as const, bar: 0, offset: 0n, len: 100_000_000 }] };
    const pb = file('len.pb', encodeTrace(trace));
    expectOneLine(run(['replay', pb, '--kernel', 'linux-6.12'], { cwd: dir }), 2, /len\.pb: event 0 at byte \d+ \(0x[0-9a-f]+\): mem-read len=100000000: one CPU access is 1 to 8 bytes/);
    expectOneLine(run(['info', pb], { cwd: dir }), 2, /mem-read len=100000000/);
  });

  it('#5 the decoder limits config space to 4096 bytes, as the text parser does', () => {
    const h = emptyHeader();
    h.device.config = new Uint8Array(4097);
    const pb = file('cfg.pb', encodeTrace({ header: h, events: [] }));
    expectOneLine(run(['dump', pb], { cwd: dir }), 2, /cfg\.pb: at byte 0 \(0x0\): header: device config size 4097 is larger than 4096/);
    h.device.config = new Uint8Array(4096);
    const ok = file('cfg-ok.pb', encodeTrace({ header: h, events: [] }));
    const dump = run(['dump', ok], { cwd: dir });
    expect(dump.code).toBe(0);
    expect(run(['encode', file('cfg-ok.txt', dump.stdout), '-o', join(dir, 'cfg-again.pb')], { cwd: dir }).code).toBe(0);
  });

  // Found by `npm run fuzz` (text target, seed 19): `page-size=4` ended the replay in a division
  // by zero in the huge_fault levels. A page size is a power of two from 4K to 1M, or 0 = not recorded.
  it('the page size is a host PAGE_SIZE, checked where it is read (text and binary) and written', () => {
    const t = file('page.txt', HEAD.replace('8086:10d3', '8086:10d3 page-size=4'));
    expectOneLine(run(['replay', t, '--kernel', 'linux-6.12'], { cwd: dir }), 2, /page\.txt:\d+:\d+: page size 4 is not a power of two from 4096 to 1048576/);
    const h = emptyHeader();
    h.device.pageSize = 3000;
    const pb = file('page.pb', encodeTrace({ header: h, events: [] }));
    expectOneLine(run(['dump', pb], { cwd: dir }), 2, /page\.pb: at byte 0 \(0x0\): header: device page size 3000 is not a power of two/);
    for (const ok of [0, 4096, 16384, 65536]) {
      h.device.pageSize = ok;
      const good = file(`page-${ok}.pb`, encodeTrace({ header: h, events: [] }));
      expect(run(['dump', good], { cwd: dir }).code).toBe(0);
    }
  });

  it('#6 a lone surrogate in a string is refused at its line; a header error names no event', () => {
    const t = file('sur.txt', 'vfio-trace 1\ntitle "\\ud800"\n');
    expectOneLine(run(['encode', t, '-o', join(dir, 'sur.pb')], { cwd: dir }), 2, /sur\.txt:2:7: title: lone surrogate \\ud800/);
    expect(existsSync(join(dir, 'sur.pb'))).toBe(false);
    // A pair is fine.
    const pair = file('pair.txt', 'vfio-trace 1\ntitle "\\ud83d\\ude00"\n');
    expect(run(['encode', pair, '-o', join(dir, 'pair.pb')], { cwd: dir }).code).toBe(0);
    expect(run(['info', join(dir, 'pair.pb')], { cwd: dir }).stdout).toContain('title "\u{1F600}"');
    // Invalid UTF-8 in a binary header: located by byte, not called "event 0".
    const h = emptyHeader();
    h.title = 'ab';
    const bytes = encodeTrace({ header: h, events: [] });
    const at = Buffer.from(bytes).indexOf('ab');
    bytes[at] = 0xff;
    const r = run(['info', file('bad-utf8.pb', bytes)], { cwd: dir });
    expectOneLine(r, 2, /bad-utf8\.pb: at byte \d+ \(0x[0-9a-f]+\): Header\.title: string is not valid UTF-8/);
    expect(r.stderr).not.toMatch(/event/);
  });

  it('#7 a lone CR is refused by encode, dump and info alike; CRLF files work', () => {
    const t = file('cr.txt', 'vfio-trace 1\rsource lab\n');
    for (const args of [['encode', t, '-o', join(dir, 'cr.pb')], ['dump', t], ['info', t]]) {
      expectOneLine(run(args, { cwd: dir }), 2, /cr\.txt:1:13: carriage return \(CR\) inside a line/);
    }
    const crlf = file('crlf.txt', 'vfio-trace 1\r\nsource lab\r\nopen\r\n');
    expect(run(['encode', crlf, '-o', join(dir, 'crlf.pb')], { cwd: dir }).code).toBe(0);
    expect(run(['dump', join(dir, 'crlf.pb')], { cwd: dir }).stdout).toContain('source lab');
  });

  it('#8 a reader that goes away (| head) ends every command quietly', async () => {
    for (const args of [['import', '--help'], ['--help'], ['versions'], ['dump', join(dir, 'crlf.pb')], ['info', join(dir, 'crlf.pb')]]) {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.destroy(); // the reader is gone before the first write
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      });
      expect(r.stderr, args.join(' ')).toBe('');
      expect(r.code, args.join(' ')).toBe(0);
    }
  });

  it('#9 info keeps a bounded number of header blocks (100,000 header packets in a 24 MB heap)', () => {
    const one = Buffer.from([0x0a, 5, 0x82, 4, 2, 8, 1]); // a header packet holding only format 1
    const pb = file('headers.pb', Buffer.concat(Array.from({ length: 100_000 }, () => one)));
    const r = spawnSync(process.execPath, ['--max-old-space-size=24', cli, 'info', pb], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('header    ... 99984 more header blocks (the first 16 are shown)');
  });

  it('an unknown command is named, exit 2 (also with --help and after help)', () => {
    for (const args of [['no-such-command'], ['no-such-command', '--help'], ['help', 'no-such-command']]) {
      const r = run(args, { cwd: dir });
      expect(r.stdout).toBe('');
      expectOneLine(r, 2, /^vfio-replay: unknown command 'no-such-command' \(see --help\)$/m);
    }
    expect(run(['help', 'info'], { cwd: dir }).code).toBe(0);
  });

  it('version-selection errors name the trace', () => {
    const t = file('nokernel.txt', 'vfio-trace 1\nsource hand-written\nopen\n');
    expectOneLine(run(['replay', t], { cwd: dir }), 2, /^vfio-replay: .*nokernel\.txt: the trace header names no kernel release: pass --kernel/);
  });

  it('a write killed mid-way leaves a temp file that the next write to the target removes, saying so', () => {
    const out = join(dir, 'killed.pb');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const leftover = join(dir, `.killed.pb.${dead}.tmp`);
    writeFileSync(leftover, 'half a trace');
    const r = run(['encode', join(dir, 'crlf.txt'), '-o', out], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`vfio-replay: removed ${leftover}, left by process ${dead} (no longer running) while writing ${out}\n`);
    expect(readdirSync(dir).filter((f) => f.startsWith('.killed'))).toEqual([]);
    // A live process's temp file (this test's own pid) is never touched.
    const live = join(dir, `.killed.pb.${process.pid}.tmp`);
    writeFileSync(live, 'being written');
    expect(run(['encode', join(dir, 'crlf.txt'), '-o', out], { cwd: dir }).stderr).toBe('');
    expect(existsSync(live)).toBe(true);
  });
});
