// The VMM's device options come from the command line the tracer recorded (info: vmm_cmdline):
// the `-device vfio-pci,...` of the traced BDF, minus the driver and its address.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { importTrace } from '../../src/import/importer.js';
import { vfioDeviceOptions } from '../../src/import/vmm-options.js';
import { loadTrace } from '../../src/trace/codec.js';
import { repo } from './helpers.js';

const BDF = '0000:00:03.0';

describe('vfioDeviceOptions', () => {
  it('takes the options of this BDF in command-line order, without driver and host', () => {
    const cmd = `qemu-system-x86_64 -accel tcg -device vfio-pci,host=${BDF},rombar=0,x-no-mmap=on -device isa-debug-exit,iobase=0xf4`;
    expect(vfioDeviceOptions(cmd, BDF)).toEqual(['rombar=0', 'x-no-mmap=on']);
  });

  it('matches host= without the domain, sysfsdev=, driver=vfio-pci and --device=, and not another device', () => {
    const cmd = [
      'qemu -device vfio-pci,host=01:00.0,x-no-mmap=true',
      `--device=driver=vfio-pci,sysfsdev=/sys/bus/pci/devices/${BDF},rombar=0,id=hostdev0`,
    ].join(' ');
    expect(vfioDeviceOptions(cmd, '0000:01:00.0')).toEqual(['x-no-mmap=true']);
    expect(vfioDeviceOptions(cmd, BDF)).toEqual(['rombar=0', 'id=hostdev0']);
    expect(vfioDeviceOptions(cmd, '0000:02:00.0')).toEqual([]);
  });

  it('reads QEMU escapes (,, is a comma) and the JSON -device form', () => {
    expect(vfioDeviceOptions(`q -device vfio-pci,host=${BDF},romfile=/a,,b,x-no-mmap`, BDF)).toEqual(['romfile=/a,b', 'x-no-mmap']);
    expect(vfioDeviceOptions(`q -device {"driver":"vfio-pci","host":"${BDF}","x-no-mmap":true,"rombar":0}`, BDF)).toEqual(['x-no-mmap=on', 'rombar=0']);
  });

  it('with the BDF unknown takes the only vfio-pci device, and nothing when there are two', () => {
    expect(vfioDeviceOptions('q -device vfio-pci,host=01:00.0,x-no-mmap=on', '')).toEqual(['x-no-mmap=on']);
    expect(vfioDeviceOptions('q -device vfio-pci,host=01:00.0 -device vfio-pci,host=02:00.0,a=b', '')).toEqual([]);
  });

  it('never throws, and finds nothing on a line without a vfio-pci -device', () => {
    const word = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('-device', '--device', 'vfio-pci,host=01:00.0,a=b', 'driver=vfio-pci', ',,', '{"driver":"vfio-pci"}'));
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), fc.constantFrom('', '0000:01:00.0', '01:00.0'), (words, bdf) => {
        const cmd = words.join(' ');
        const opts = vfioDeviceOptions(cmd, bdf);
        if (!cmd.includes('vfio-pci')) expect(opts).toEqual([]);
      }),
    );
  });
});

describe('import: header.vmm.options from the recorded command line', () => {
  it('the nested lab capture run with x-no-mmap=on carries it, the mmapped one does not', () => {
    const dir = join(repo, 'traces/qemu/7.2');
    const noMmap = importTrace({ dir: join(dir, 'd3hot-read.no-mmap'), tracerVersion: 't' }).trace.header.vmm;
    expect(noMmap.options).toEqual(['rombar=0', 'x-no-mmap=on']);
    const mmap = importTrace({ dir: join(dir, 'd3hot-read'), tracerVersion: 't' }).trace.header.vmm;
    expect(mmap.options).toEqual(['rombar=0']);
    expect(readFileSync(join(dir, 'd3hot-read.no-mmap/info'), 'utf8')).toContain('x-no-mmap=on');
  });

  it('the committed traces/qemu no-mmap traces were imported with it', async () => {
    for (const series of ['7.2', '10.0']) {
      const t = await loadTrace(join(repo, 'traces/qemu', series, 'd3hot-write.no-mmap.pb'));
      expect(t.header.vmm.options, series).toContain('x-no-mmap=on');
    }
  });
});
