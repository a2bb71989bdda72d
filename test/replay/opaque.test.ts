// replay.after-opaque: outcomes that depend on state an uncaptured ioctl may have changed replay
// `unsupported` naming that call, instead of confident predictions (issue 20, item 7).
import { describe, expect, test } from 'vitest';
import { Replayer } from '../../src/replay/engine.js';
import { RULE_AFTER_OPAQUE } from '../../src/replay/opaque.js';
import { parseText } from '../../src/trace/text-parse.js';
import { fakeConfig } from '../import/helpers.js';

function trace(events: string[]): ReturnType<typeof parseText> {
  const cfg = fakeConfig();
  // An MSI capability at 0xd0 after the PM capability at 0xc8, so SET_IRQS has a range to touch.
  cfg[0xc9] = 0xd0;
  cfg.set([0x05, 0x00, 0x80, 0x00], 0xd0);
  const hex = (o: number) => [...cfg.slice(o, o + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const lines = [
    'vfio-trace 1',
    'source strace',
    'kernel 6.1.0',
    'vmm - - unknown',
    'device 0000:01:00.0 8086:10d3 page-size=4096 iommu-group=5',
    'bar 0 mem size=0x20000',
    'config size=256',
    ...Array.from({ length: 16 }, (_, i) => `config 0x${(i * 16).toString(16).padStart(3, '0')} ${hex(i * 16)}`),
    ...events,
  ];
  return parseText(lines.join('\n') + '\n', 't.txt');
}

function run(events: string[]): string[] {
  const t = trace(events);
  const r = new Replayer(t.header, { kernel: 'linux-6.1', vmm: null });
  return t.events.map((e) => {
    const s = r.apply(e);
    return s.rule === RULE_AFTER_OPAQUE ? `opaque ${s.outcome.kind === 'unsupported' ? s.outcome.reason : ''}` : s.outcome.kind;
  });
}

describe('replay.after-opaque', () => {
  test('after an opaque FEATURE every device access is unsupported, naming the call', () => {
    const out = run(['0 open', '1 cfg-read 0x00 len=4', '2 ioctl raw fd=device req=0x3b75 name=VFIO_DEVICE_FEATURE arg=-', '3 cfg-read 0x00 len=4', '4 region-read bar0+0x8 len=4', '5 close']);
    expect(out[1]).toBe('ok');
    expect(out[2]).toBe('unsupported'); // the call itself: not modeled without its struct
    expect(out[3]).toMatch(/^opaque after opaque #0002 \(VFIO_DEVICE_FEATURE without its arguments\)/);
    expect(out[4]).toMatch(/^opaque after opaque #0002/);
    expect(out[5]).toBe('ok'); // close does not read device state
  });
  test('after an opaque SET_IRQS only reads of the MSI/MSI-X capability are unsupported', () => {
    const out = run(['0 open', '1 ioctl raw fd=device req=0x3b6e name=VFIO_DEVICE_SET_IRQS arg=-', '2 cfg-read 0x00 len=4', '3 cfg-read 0xd2 len=2']);
    expect(out[2]).toBe('ok');
    expect(out[3]).toMatch(/^opaque after opaque #0001 \(VFIO_DEVICE_SET_IRQS/);
  });
  test('a raw ioctl that carries its captured bytes is not opaque', () => {
    const out = run(['0 open', '1 ioctl raw fd=device req=0x3b75 name=VFIO_DEVICE_FEATURE arg=0800000000000000', '2 cfg-read 0x00 len=4']);
    expect(out[2]).toBe('ok');
  });
});
