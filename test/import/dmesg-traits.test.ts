// dmesg's "Refused to change power state" is a trait of the device, not an event: the importer
// puts the refused states into the header's device traits (pm-refuses, source dmesg), so replay
// predicts the refusal from the first PMCSR write (src/import/dmesg.ts, importer.ts).
import { describe, expect, it } from 'vitest';
import { readKernelLog } from '../../src/import/dmesg.js';
import { textLines } from '../../src/import/lines.js';

const log = [
  '[    0.000000] Linux version 6.12.117+deb13-amd64 (debian-kernel@lists.debian.org)',
  '[    3.120001] vfio-pci 0000:00:03.0: enabling device (0000 -> 0003)',
  '[    9.500000] vfio-pci 0000:00:03.0: Refused to change power state from D0 to D3hot',
  '[    9.600000] vfio-pci 0000:00:03.0: Refused to change power state from D0 to D3hot',
  '[    9.700000] vfio-pci 0000:00:04.0: Refused to change power state from D0 to D1',
  '[    9.800000] e1000e 0000:00:02.0 eth0: NIC Link is Up',
].join('\n');

describe('dmesg: refusals become device traits', () => {
  it('collects the refused states of the device, once each, not of other devices', () => {
    const k = readKernelLog(textLines(log, 'dmesg.txt'), '0000:00:03.0');
    expect(k.pmRefuses).toEqual(['D3hot']);
    expect(k.kernelRelease).toBe('6.12.117+deb13-amd64');
    expect(k.deviceLines).toHaveLength(3);
    expect(readKernelLog(textLines(log, 'dmesg.txt'), '0000:00:04.0').pmRefuses).toEqual(['D1']);
    expect(readKernelLog(textLines(log, 'dmesg.txt'), '0000:00:02.0').pmRefuses).toEqual([]);
  });
});
