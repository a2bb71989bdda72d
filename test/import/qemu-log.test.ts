// QEMU log backend lines rendered from the trace-events format strings in all three prefix eras.
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { importTrace } from '../../src/import/importer.js';
import { parseTraceEvents, USED_EVENTS, RENAMED } from '../../src/import/qemu-events.js';
import { readQemuLog } from '../../src/import/qemu-log.js';
import { readStraceLog } from '../../src/import/strace-log.js';
import { eventLines, straceDir } from './helpers.js';
import { renderLine, traceEvents, type Era, type Rendered } from './qemu-render.js';

const DEV = '0000:01:00.0';
const T0 = 1_763_700_000_000_000_000n;

function scenario(): Rendered[] {
  const evs: [string, (string | number | bigint | boolean)[]][] = [
    ['vfio_pci_read_config', [DEV, 0x0, 4, 0x10d38086]],
    ['vfio_pci_write_config', [DEV, 0x4, 0x6, 2]],
    ['pci_update_mappings_add', ['vfio-pci', 0, 3, 0, 0, 0xfebc0000n, 0x20000n]],
    ['vfio_region_read', [DEV, 0, 0x8n, 4, 0x12345678n]],
    ['vfio_region_write', [DEV, 3, 0x10n, 0x1n, 4]],
    ['vfio_region_mmaps_set_enabled', [`${DEV} BAR 0`, false]],
    ['vfio_pci_write_config', [DEV, 0xcc, 0x3, 2]],
    ['pci_pm_transition', ['vfio-pci', 0, 3, 0, 0, 3]],
    ['pci_update_mappings_del', ['vfio-pci', 0, 3, 0, 0, 0xfebc0000n, 0x20000n]],
    ['vfio_region_read', [DEV, 0, 0x8n, 4, 0xffffffffn]],
    ['vfio_pci_write_config', [DEV, 0xcc, 0x1, 2]],
    ['pci_pm_bad_transition', ['vfio-pci', 0, 3, 0, 3, 1]],
    ['vfio_pci_read_config', ['0000:02:00.0', 0x0, 4, 0x12341234]],
    ['vfio_msix_enable', [DEV]],
    ['vfio_device_get_region_info_type', [DEV, 0, 0, 0]],
  ];
  return evs.map(([name, args], i) => ({ name, args, tid: 4242, ns: T0 + BigInt(i) * 1000n }));
}

function logFile(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'qemu-log-')), 'qemu.log');
  writeFileSync(f, text);
  return f;
}

describe('QEMU log backend', () => {
  it("reads the same formats as the fixture's verbatim trace-events", () => {
    for (const d of parseTraceEvents(USED_EVENTS)) expect(traceEvents.get(d.name), d.name).toEqual(d);
  });

  it.each<Era>(['tid', 'iso', 'none'])('era %s: guest config, trapped MMIO, BAR placement and PM transitions', (era) => {
    const text = scenario().map((e) => renderLine(e, era)).join('\n') + '\n';
    // An old-QEMU line (a renamed event), an unknown event and a QEMU error message.
    const extra = [renderLine({ name: 'vfio_msix_enable', args: [DEV], tid: 4242, ns: T0 + 99_000n }, era).replace('vfio_msix_enable', 'vfio_get_dev_region'),
      renderLine({ name: 'vfio_msix_enable', args: [DEV], tid: 4242, ns: T0 + 99_000n }, era).replace('vfio_msix_enable', 'vfio_brand_new_event'),
      'qemu-system-x86_64: vfio_region_read(0000:01:00.0:region0+0x8, 4) failed: Input/output error'];
    const f = logFile(text + extra.join('\n') + '\n');
    const { trace, report } = importTrace({ qemuLog: f, tracerVersion: 't' });
    expect(eventLines(trace)).toEqual([
      'guest-cfg-read 0x00 len=4 => data=8680d310',
      'guest-cfg-write 0x04 len=2 val=0x0006',
      'guest-mmio-read 0xfebc0008 len=4 => data=78563412',
      'region-write bar3+0x10 len=4 val=0x00000001', // no guest address known for BAR3: the host op
      'guest-cfg-write 0xcc len=2 val=0x0003 => power=D3hot',
      'region-read bar0+0x8 len=4 => data=ffffffff', // BAR0 unmapped again
      'guest-cfg-write 0xcc len=2 val=0x0001 => power=D3hot', // QEMU rejected D3hot -> D1
    ]);
    const q = report.qemu!;
    expect(q.mmapToggles).toBe(1);
    expect(q.otherDevice).toBe(1);
    expect(q.unknown).toEqual(new Map([['vfio_brand_new_event', 1]]));
    expect(q.skipped.get('vfio_get_dev_region')).toBe(1); // renamed in newer QEMU: still known
    expect(q.otherLines).toBe(1);
    if (era === 'tid') expect(trace.events.every((e) => e.tid === 4242)).toBe(true);
    if (era !== 'none') expect(trace.events.map((e) => e.tsNs)).toEqual([0n, 1000n, 3000n, 4000n, 6000n, 9000n, 10000n]);
  });

  it('later 10.2+ revisions: a program name after the ISO stamp', () => {
    const l = renderLine(scenario()[1]!, 'iso').replace('Z vfio_pci_write_config', 'Z qemu-system-x86_64: vfio_pci_write_config');
    const r = readQemuLog(l + '\n', 'q.log', { bdf: DEV, guestBdf: '' });
    expect(r.events.map((e) => e.body)).toEqual([{ kind: 'guest-cfg-write', offset: 4, len: 2, value: 6n }]);
    expect(r.absolute).toBe(true);
  });

  it('knows every renamed event', () => {
    for (const old of Object.keys(RENAMED)) {
      const r = readQemuLog(`${old}  (x)\n`, 'q.log', { bdf: DEV, guestBdf: '' });
      expect(r.unknown.size, old).toBe(0);
    }
  });

  it('a malformed known line is an error at file:line:column; nothing is imported', () => {
    const lines = scenario().slice(0, 2).map((e) => renderLine(e, 'tid'));
    lines.push('4242@1763700000.000100:vfio_pci_write_config  (0000:01:00.0, @0xzz, 0x3, len=0x2)');
    const f = logFile(lines.join('\n') + '\n');
    expect(() => importTrace({ qemuLog: f, tracerVersion: 't' })).toThrowError(UserError);
    try {
      importTrace({ qemuLog: f, tracerVersion: 't' });
    } catch (e) {
      expect((e as UserError).message).toMatch(new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: vfio_pci_write_config: arguments do not match`));
    }
  });

  it('merges with a -ttt strace capture by time and drops the host copy of a logged guest access', () => {
    const strace = join(straceDir, 'ttt-no-y.strace');
    const log = readStraceLog(readFileSync(strace, 'latin1'), strace);
    // The pwrite64 of COMMAND=0x0106 that the "VMM" made: pretend QEMU logged the guest write 2 us before it.
    const call = log.items.find((i) => i.type === 'call' && i.name === 'pwrite64' && i.args.includes('"\\x06\\x01"'));
    if (!call || call.type !== 'call') throw new Error('fixture lacks the COMMAND write');
    const guest = renderLine({ name: 'vfio_pci_write_config', args: [DEV, 0x4, 0x106, 2], tid: call.pid, ns: call.startNs! - 2000n }, 'tid');
    const f = logFile(guest + '\n');
    const alone = importTrace({ strace, tracerVersion: 't' }).trace;
    const { trace, report } = importTrace({ strace, qemuLog: f, tracerVersion: 't' });
    expect(report.droppedForwards).toBe(1);
    const merged = eventLines(trace);
    const i = merged.indexOf('guest-cfg-write 0x04 len=2 val=0x0106');
    expect(i).toBeGreaterThan(0);
    expect(merged.filter((l) => l.startsWith('cfg-write 0x04 len=2 val=0x0106'))).toHaveLength(0);
    expect(merged).toHaveLength(alone.events.length);
  });

  it('merge.sequence-align: an untimed QEMU log interleaves with strace by the accesses both show', () => {
    const strace = join(straceDir, 'ttt-no-y.strace');
    const f = logFile(renderLine({ name: 'vfio_pci_write_config', args: [DEV, 0x4, 0x106, 2], tid: 0, ns: 0n }, 'none') + '\n');
    const alone = eventLines(importTrace({ strace, tracerVersion: 't' }).trace);
    const { trace, report } = importTrace({ strace, qemuLog: f, tracerVersion: 't' });
    expect(report.order).toBe('sequence');
    expect(report.droppedForwards).toBe(1);
    const merged = eventLines(trace);
    // The guest write takes the place of its host pwrite; everything else keeps strace's order.
    const at = alone.findIndex((l) => l.startsWith('cfg-write 0x04 len=2 val=0x0106'));
    expect(at).toBeGreaterThan(0);
    expect(merged[at]).toBe('guest-cfg-write 0x04 len=2 val=0x0106');
    expect(merged.slice(0, at)).toEqual(alone.slice(0, at));
    expect(merged.slice(at + 1)).toEqual(alone.slice(at + 1));
  });
});
