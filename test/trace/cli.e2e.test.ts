// End to end: the built CLI (`npx tsc -p .` first) as a user runs it: dump, encode, info, their
// exit codes, one-line errors without a stack, and no output file left behind on error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');
const cli = join(root, 'dist/src/cli/main.js');
const examples = join(root, 'traces/examples');
let tmp = '';

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^vfio-replay: [^\n]+\n$/);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/); // no stack trace
}

beforeAll(() => {
  if (!existsSync(cli)) throw new Error('build first: npx tsc -p .');
  tmp = mkdtempSync(join(tmpdir(), 'vfio-cli-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('vfio-replay dump / encode / info', { timeout: 60_000 }, () => {
  it('encode then dump reproduces the canonical text, and dump|encode reproduces the .pb', () => {
    const txt = join(examples, 'e1000e-d3-sigbus.txt');
    const pb = join(tmp, 'd3.pb');
    const enc = run('encode', txt, '-o', pb);
    expect(enc).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(pb).equals(readFileSync(join(examples, 'e1000e-d3-sigbus.pb')))).toBe(true);
    const dump = run('dump', pb);
    expect(dump.code).toBe(0);
    expect(dump.stdout).toContain('5 t=600 tid=5202 race=1 mem-read bar0+0x8 len=4 => signal=SIGBUS code=BUS_ADRERR addr=0x7f51c8000008\n');
    const canonical = join(tmp, 'd3.txt');
    writeFileSync(canonical, dump.stdout);
    const pb2 = join(tmp, 'd3-again.pb');
    expect(run('encode', canonical, '-o', pb2).code).toBe(0);
    expect(readFileSync(pb2).equals(readFileSync(pb))).toBe(true);
    expect(run('dump', pb2).stdout).toBe(dump.stdout);
  });

  it('dump --json prints one JSON object a line with u64 as hex strings', () => {
    const r = run('dump', '--json', join(examples, 'e1000e-bringup.pb'));
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ type: 'header', offset: 0, formatVersion: 1, source: 'strace' });
    const mmap = lines.find((l) => l.kind === 'mmap');
    expect(mmap).toMatchObject({ type: 'event', seq: '0x10', region: 0, length: '0x20000', addr: '0x7f3a2c000000' });
  });

  it('info counts events by kind and reports unknown fields; --json too', () => {
    const r = run('info', join(examples, 'e1000e-dmabuf.pb'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/events +16 \(/);
    expect(r.stdout).toMatch(/ dmabuf +6\n/);
    expect(r.stdout).toMatch(/unknown +0 fields, 0 events of unknown kinds/);
    const j = JSON.parse(run('info', '--json', join(examples, 'e1000e-dmabuf.pb')).stdout) as Record<string, unknown>;
    expect(j).toMatchObject({ format: 'binary', events: 16, counts: { dmabuf: 6, 'ioctl dma-buf': 1 }, unknownFields: {} });
  });

  it('info reads concatenated traces as one with two headers', () => {
    const cat = join(tmp, 'cat.pb');
    writeFileSync(cat, Buffer.concat([readFileSync(join(examples, 'e1000e-bringup.pb')), readFileSync(join(examples, 'e1000e-dmabuf.pb'))]));
    const j = JSON.parse(run('info', '--json', cat).stdout) as { headers: unknown[]; events: number };
    expect(j.headers).toHaveLength(2);
    expect(j.events).toBe(39 + 16);
  });

  it('fields from a newer schema are reported by info and dump, not dropped silently', () => {
    const pb = readFileSync(join(examples, 'e1000e-dmabuf.pb'));
    // One extra packet: seq 99, a cfg-read, plus Packet field 99 (varint 42) this schema lacks.
    const extra = Buffer.from([0x0a, 0x0b, 0x08, 0x63, 0x32, 0x04, 0x08, 0x04, 0x10, 0x02, 0x98, 0x06, 0x2a]);
    const newer = join(tmp, 'newer.pb');
    writeFileSync(newer, Buffer.concat([pb, extra]));
    const info = run('info', newer);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/unknown +1 fields, 0 events of unknown kinds \(written by a newer schema; skipped\)\n +Packet\.99 +1\n/);
    const dump = run('dump', newer);
    expect(dump.code).toBe(0);
    expect(dump.stdout).toContain('99 cfg-read 0x04 len=2\n');
    expect(dump.stdout).toMatch(/# 0 events of unknown kinds skipped; unknown fields skipped:\n# +Packet\.99 x1\n$/);
  });

  it('bad input: one line, exit 2, and no output file left behind', () => {
    const bad = join(tmp, 'bad.txt');
    writeFileSync(bad, 'vfio-trace 1\nopen\ncfg-read 0x04 len=two\n');
    const out = join(tmp, 'bad.pb');
    expectOneLineError(run('encode', bad, '-o', out), /bad\.txt:3:19: len: expected a number, got "two"/);
    expect(readdirSync(tmp).filter((f) => f.includes('bad.pb'))).toEqual([]);

    const garbage = join(tmp, 'garbage.pb');
    writeFileSync(garbage, 'not a trace at all');
    expectOneLineError(run('dump', garbage), /garbage\.pb: at byte 0 \(0x0\): expected packet tag 0x0a/);
    const truncated = join(tmp, 'truncated.pb');
    writeFileSync(truncated, readFileSync(join(examples, 'e1000e-bringup.pb')).subarray(0, 700));
    expectOneLineError(run('info', truncated), /truncated\.pb: at byte \d+ \(0x[0-9a-f]+\): truncated packet/);
    expectOneLineError(run('dump', join(tmp, 'missing.pb')), /missing\.pb: cannot open trace: ENOENT/);
    expectOneLineError(run('encode', join(tmp, 'missing.txt'), '-o', join(tmp, 'm.pb')), /missing\.txt: cannot read text trace: ENOENT/);
    expect(existsSync(join(tmp, 'm.pb'))).toBe(false);
    expectOneLineError(run('encode', join(examples, 'e1000e-bringup.txt'), '-o', join(tmp, 'no/dir/x.pb')), /x\.pb: cannot write output: ENOENT/);
  });

  it('usage errors are one line and exit 2; --help and --version exit 0', () => {
    expectOneLineError(run('dump', '--bogus', 'x.pb'), /unknown option '--bogus'/);
    expectOneLineError(run('dump'), /missing required argument 'trace'/);
    expectOneLineError(run('encode', 'x.txt'), /required option '-o, --output <file>' not specified/);
    expectOneLineError(run('dmup'), /unknown command 'dmup'/);
    const v = run('--version');
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
    for (const cmd of ['dump', 'encode', 'info']) {
      const h = run(cmd, '--help');
      expect(h.code).toBe(0);
      expect(h.stdout).toContain(`Usage: vfio-replay ${cmd}`);
    }
  });
});
