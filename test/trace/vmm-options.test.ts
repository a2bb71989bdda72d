// header.vmm.options (VmmInfo field 4, added after format 1 shipped): the text twin's
// `vmm-options` line, its canonical encoding (absent when empty, so every trace written before it
// encodes byte for byte as before), and what a reader without the field makes of it.
import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { decodeTrace, encodeHeaderPacket, encodeTrace } from '../../src/trace/codec.js';
import { parseText } from '../../src/trace/text-parse.js';
import { printText } from '../../src/trace/text-print.js';
import { schema, type MessageInfo } from '../../src/trace/schema.js';
import { decodeMessage, withDefaults, type DecodeContext, type Msg } from '../../src/trace/wire.js';
import { UserError } from '../../src/errors.js';

const base = ['vfio-trace 1', 'vmm qemu 7.2.22 tcg'];
const trace = (...lines: string[]) => parseText([...base, ...lines, 'cfg-read 0x00 len=2', ''].join('\n'), 't.txt');

function userError(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('vmm-options header line', () => {
  it('parses one option a word, keeps `key=value` words whole, prints them back bare', () => {
    const t = trace('vmm-options rombar=0 x-no-mmap=on "a b" -');
    expect(t.header.vmm).toEqual({ name: 'qemu', version: '7.2.22', accel: 'tcg', options: ['rombar=0', 'x-no-mmap=on', 'a b', ''] });
    const text = printText(t);
    expect(text).toContain('vmm qemu 7.2.22 tcg\nvmm-options rombar=0 x-no-mmap=on "a b" -\ntracer');
    expect(printText(parseText(text, 'again.txt'))).toBe(text);
  });

  it('may come before the vmm line; the vmm line keeps it', () => {
    const t = parseText(['vfio-trace 1', 'vmm-options x-no-mmap=on', 'vmm qemu 10.0.3 kvm', ''].join('\n'), 't.txt');
    expect(t.header.vmm.options).toEqual(['x-no-mmap=on']);
  });

  it('is omitted when there are no options, and an empty list is the default', () => {
    const t = trace();
    expect(t.header.vmm.options).toEqual([]);
    expect(printText(t)).not.toContain('vmm-options');
  });

  it('quotes what a bare word cannot hold', () => {
    const t = trace('vmm-options "romfile=/a b#c" "-" "q\\"x"');
    expect(t.header.vmm.options).toEqual(['romfile=/a b#c', '-', 'q"x']);
    expect(printText(t)).toContain('vmm-options "romfile=/a b#c" "-" "q\\"x"\n');
  });

  it('rejects an empty line, a second line, and an unquoted odd word, at line:column', () => {
    expect(userError(() => trace('vmm-options')).message).toMatch(/t\.txt:3:12: vmm-options: expected at least one option/);
    expect(userError(() => trace('vmm-options a=1', 'vmm-options b=2')).message).toMatch(/t\.txt:4:1: vmm-options given twice/);
    expect(userError(() => trace('vmm-options a=1 b$c')).message).toMatch(/t\.txt:3:17: vmm option: b\$c must be quoted/);
  });
});

describe('VmmInfo.options on the wire', () => {
  it('round-trips through the binary form', () => {
    const t = trace('vmm-options rombar=0 x-no-mmap=on');
    expect(decodeTrace(encodeTrace(t), 't.pb')).toEqual(t);
  });

  it('an empty list encodes nothing: the header bytes are those of a trace without the field', () => {
    const t = trace();
    const withField = encodeHeaderPacket(t.header);
    const { options: _o, ...vmmWithout } = t.header.vmm;
    const without = encodeHeaderPacket({ ...t.header, vmm: vmmWithout as typeof t.header.vmm });
    expect(Buffer.from(withField).equals(Buffer.from(without))).toBe(true);
  });

  it('a reader whose schema lacks field 4 counts it as unknown and keeps the rest of VmmInfo', () => {
    const vmmInfo = schema().packet.byName.get('header')!.msg!.byName.get('vmm')!.msg!;
    const old: MessageInfo = {
      name: vmmInfo.name,
      byId: new Map([...vmmInfo.byId].filter(([id]) => id !== 4)),
      ordered: vmmInfo.ordered.filter((f) => f.id !== 4),
      byName: new Map([...vmmInfo.byName].filter(([, f]) => f.id !== 4)),
    };
    expect(old.ordered.length).toBe(vmmInfo.ordered.length - 1);
    // VmmInfo as the current schema writes it: name, version, accel, options.
    const bytes = protobuf.Writer.create().uint32(0x0a).string('qemu').uint32(0x12).string('7.2').uint32(0x18).uint32(2).uint32(0x22).string('x-no-mmap=on').finish();
    const ctx: DecodeContext = { file: 'old.pb', base: 0, unknown: new Map() };
    const m = withDefaults(old, decodeMessage(old, bytes, 0, bytes.length, ctx)) as Msg;
    expect(m).toEqual({ name: 'qemu', version: '7.2', accel: 'tcg' });
    expect(Object.fromEntries(ctx.unknown)).toEqual({ 'VmmInfo.4': 1 });
    const now: DecodeContext = { file: 'new.pb', base: 0, unknown: new Map() };
    expect(withDefaults(vmmInfo, decodeMessage(vmmInfo, bytes, 0, bytes.length, now))).toEqual({ name: 'qemu', version: '7.2', accel: 'tcg', options: ['x-no-mmap=on'] });
    expect(now.unknown.size).toBe(0);
  });
});
