// Device traits in the header (DeviceSnapshot.traits, field 14) and the kernel log of an
// observation (Observed.kernel_log, field 10): text twin, binary, defaults.
import { describe, expect, it } from 'vitest';
import { decodeTrace, encodeTrace } from '../../src/trace/codec.js';
import { parseText } from '../../src/trace/text-parse.js';
import { printText } from '../../src/trace/text-print.js';
import { UserError } from '../../src/errors.js';

const text = (...lines: string[]): string => ['vfio-trace 1', 'device 0000:01:00.0 1234:5678', ...lines, ''].join('\n');

describe('device-traits header line', () => {
  it('parses every trait, prints only the set ones back, survives the binary form', () => {
    const t = parseText(text('device-traits d-states=D0,D3hot pm-refuses=D1,D2 reset-clears=no no-soft-reset=yes config-size=256 flr=no bus-reset=yes rom-image=0x3d000 source=lab-probe', 'cfg-read 0x00 len=2'), 't.txt');
    expect(t.header.device.traits).toEqual({
      dStates: ['D0', 'D3hot'],
      pmRefuses: ['D1', 'D2'],
      resetClears: 'no',
      noSoftReset: 'yes',
      configSize: 256,
      flr: 'no',
      busReset: 'yes',
      source: 'lab-probe',
      romImage: 0x3d000,
    });
    const printed = printText(t);
    expect(printed).toContain('\ndevice-traits d-states=D0,D3hot pm-refuses=D1,D2 reset-clears=no no-soft-reset=yes config-size=256 flr=no bus-reset=yes rom-image=0x3d000 source=lab-probe\n');
    expect(printText(decodeTrace(encodeTrace(t), 't.pb'))).toBe(printed);
    const partial = parseText(text('device-traits pm-refuses=D3hot'), 't.txt');
    expect(printText(partial)).toContain('\ndevice-traits pm-refuses=D3hot\n');
  });

  it('absent = every trait from the snapshot: no line, no field on the wire', () => {
    const t = parseText(text('cfg-read 0x00 len=2'), 't.txt');
    expect(t.header.device.traits).toBeUndefined();
    const back = decodeTrace(encodeTrace(t), 't.pb');
    expect(back.header.device.traits).toBeUndefined();
    expect(printText(back)).not.toContain('device-traits');
  });

  it('bad values are located errors', () => {
    const bad = (line: string): string => {
      try {
        parseText(text(line), 't.txt');
      } catch (e) {
        if (e instanceof UserError) return e.message;
        throw e;
      }
      return 'no error';
    };
    expect(bad('device-traits pm-refuses=D4')).toMatch(/t\.txt:3:.*unknown D-state "D4"/);
    expect(bad('device-traits flr=maybe')).toMatch(/t\.txt:3:.*unknown flr "maybe" \(expected yes, no\)/);
    expect(bad('device-traits config-size=512')).toMatch(/t\.txt:3:.*config-size: expected 256 or 4096/);
  });
});

describe('klog= on an observation', () => {
  it('round-trips through text and binary', () => {
    const log = 'vfio-pci 0000:01:00.0: Refused to change power state from D0 to D3hot';
    const t = parseText(text(`cfg-write 0xcc len=2 val=0x0003 => ret=2 klog=${JSON.stringify(log)}`), 't.txt');
    expect(t.events[0]!.observed?.kernelLog).toBe(log);
    const back = decodeTrace(encodeTrace(t), 't.pb');
    expect(back.events[0]!.observed?.kernelLog).toBe(log);
    expect(printText(back)).toContain(`=> ret=2 klog=${JSON.stringify(log)}`);
  });
});
