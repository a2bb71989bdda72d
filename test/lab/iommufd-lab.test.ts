// The iommufd lab pieces that run without a kernel: the cdev scenarios become runner op lines
// (src/lab/op-script.ts), and the kernel build's config check (lab/lib/kernel-build.mjs) sees
// every setting of lab/kconfig/6.12-iommufd.config and reports one that olddefconfig dropped.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseText } from '../../src/trace/text-parse.js';
import { toOpScript } from '../../src/lab/op-script.js';
// @ts-expect-error: a plain .mjs module of the lab, no type declarations
import { fragmentSettings, missingSettings } from '../../lab/lib/kernel-build.mjs';

const LAB = join(import.meta.dirname, '../../lab');

describe('lab/scenarios/iommufd', () => {
  const dir = join(LAB, 'scenarios/iommufd');
  test.each(readdirSync(dir).filter((f) => f.endsWith('.txt')))('%s: every event is a runner op', (f) => {
    const s = toOpScript(parseText(readFileSync(join(dir, f), 'utf8'), f));
    expect(s.skipped).toEqual([]);
    expect(s.text).toMatch(/^0 iommufd-open\n1 cdev-open\n/);
  });
  test('op lines of the cdev and /dev/iommu events', () => {
    const t = parseText(
      `vfio-trace 1\nsource hand-written\nkernel -\nvmm - - unknown\ntracer -\ntitle "t"\ndevice 0000:00:03.0 8086:10d3 page-size=4096 iommu-group=1\nbar 0 mem size=0x20000\n` +
        [
          'ioctl bind-iommufd iommufd=100 flags=0x0 argsz=16',
          'ioctl attach-iommufd-pt pt=2 flags=0x0 argsz=12',
          'ioctl detach-iommufd-pt flags=0x0 argsz=8',
          'iommufd ioas-alloc flags=0x0',
          'iommufd ioas-map ioas=2 flags=0x7 va=0x200000000000 len=0x1000 iova=0x100000',
          'iommufd ioas-map-file ioas=2 flags=0x7 fd=11 start=0x0 len=0x1000 iova=0x100000',
          'iommufd ioas-unmap ioas=2 iova=0x100000 len=0x1000',
          'iommufd ioas-iova-ranges ioas=2 num=4',
          'iommufd hwpt-alloc flags=0x0 dev=1 pt=2',
          'iommufd destroy id=3',
        ].join('\n') + '\n',
      't.txt',
    );
    expect(toOpScript(t).text.split('\n')).toEqual([
      '0 bind-iommufd 100 0x0 16',
      '1 attach-pt 2 0x0 12',
      '2 detach-pt 0x0 8',
      '3 ioas-alloc 0x0',
      '4 ioas-map 2 0x7 0x200000000000 0x1000 0x100000',
      '5 ioas-map-file 2 0x7 11 0x0 0x1000 0x100000',
      '6 ioas-unmap 2 0x100000 0x1000',
      '7 ioas-iova-ranges 2 4',
      '8 hwpt-alloc 0x0 1 2',
      '9 iommufd-destroy 3',
      '',
    ]);
  });
});

describe('kernel-build config check', () => {
  const fragment = readFileSync(join(LAB, 'kconfig/6.12-iommufd.config'), 'utf8');
  test('the fragment asks for iommufd, the cdev and no debug info', () => {
    const s = new Map<string, string>(fragmentSettings(fragment));
    expect(s.get('CONFIG_IOMMUFD')).toBe('m');
    expect(s.get('CONFIG_VFIO_DEVICE_CDEV')).toBe('y');
    expect(s.get('CONFIG_NET')).toBe('n');
  });
  test('a .config that has them all passes; one olddefconfig dropped is named', () => {
    const full = fragmentSettings(fragment)
      .map(([k, v]: [string, string]) => (v === 'n' ? `# ${k} is not set` : `${k}=${v}`))
      .join('\n');
    expect(missingSettings(fragment, full)).toEqual([]);
    // a symbol absent from the .config counts as off
    expect(missingSettings(fragment, full.replace('CONFIG_VFIO_DEVICE_CDEV=y\n', ''))).toEqual([['CONFIG_VFIO_DEVICE_CDEV', 'y']]);
  });
});
