import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without type declarations
import { readStrace, unhex } from '../../lab/vmm/summarize.mjs';

// `anon_inode:[vfio-device]` as strace -xx prints it.
const DEV = '11<' + Buffer.from('anon_inode:[vfio-device]').toString('hex').replace(/(..)/g, '\\x$1') + '>';

describe('lab/vmm summarize', () => {
  it('decodes -xx strings', () => {
    expect(unhex('\\x2f\\x64\\x65\\x76')).toBe('/dev');
  });

  it('locates the SIGBUS address in the BAR mapping and lists BAR preads with their errno', () => {
    const log = [
      `350   02:28:40.1 mmap(NULL, 131072, PROT_READ|PROT_WRITE, MAP_SHARED, ${DEV}, 0) = 0x7ffff4d5c000`,
      `352   02:28:41.1 pread64(${DEV}, "\\x83\\x02\\x08\\x00", 4, 8) = 4`,
      `352   02:28:42.1 pread64(${DEV}, 0x7ffff568e9a0, 4, 8) = -1 EIO (Input/output error)`,
      `352   02:28:43.1 pread64(${DEV}, "\\x03\\x00", 2, 7696581394636) = 2`,
      '352   02:28:49.4 --- SIGBUS {si_signo=SIGBUS, si_code=BUS_ADRERR, si_addr=0x7ffff4d5c008} ---',
      '352   02:28:49.5 +++ killed by SIGBUS +++',
    ].join('\n');
    const s = readStrace(log);
    expect(s.sigbus).toMatchObject({ code: 'BUS_ADRERR', tid: 352, where: 'bar0+0x8' });
    expect(s.killed).toBe('SIGBUS');
    // Config-space preads (region 7) are not BAR accesses.
    expect(s.barIo.map((x: { op: string; region: number; errno: string; data: string }) => [x.op, x.region, x.errno, x.data])).toEqual([
      ['read', 0, '', '83020800'],
      ['read', 0, 'EIO', ''],
    ]);
  });
});
