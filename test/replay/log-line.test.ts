import { describe, expect, test } from 'vitest';
import { indexLabel, lineIndex, lineRule, renderLine } from '../../src/replay/log-line.js';
import { step } from '../../src/model/outcome.js';

describe('outcome log lines', () => {
  test('a host line: index, side, event, outcome, effects, rule', () => {
    const s = step({ kind: 'ok' }, 'config.command.mse-clear-zaps', [{ kind: 'zap', bars: [0, 3] }]);
    const line = renderLine(12, false, 'cfg-write 0x04 len=2 val=0x0404', 0, s, null);
    expect(line).toBe(
      '#0012 host  ' + 'cfg-write 0x04 len=2 val=0x0404'.padEnd(44) + ' => ok zap(bar0,bar3) [config.command.mse-clear-zaps]',
    );
    expect(lineIndex(line)).toBe(12);
    expect(lineRule(line)).toBe('config.command.mse-clear-zaps');
  });
  test('a guest line drops the guest- prefix; race and divergence marks', () => {
    const s = step({ kind: 'vmm-exit', how: 'kvm-run-efault', status: 1 }, 'vmm.direct-map-stale');
    const line = renderLine(3, true, 'guest-mmio-read 0xfea00008 len=4', 2, s, 'ok');
    expect(line.startsWith('#0003 guest mmio-read 0xfea00008 len=4 race=2')).toBe(true);
    expect(line.endsWith('=> vmm-exit KVM_RUN -EFAULT [vmm.direct-map-stale]  != observed: ok')).toBe(true);
    expect(lineRule(line)).toBe('vmm.direct-map-stale');
  });
  test('indices past 9999 keep growing', () => {
    expect(indexLabel(123456)).toBe('#123456');
    expect(lineIndex('summary: 3 events')).toBe(-1);
    expect(lineRule('summary: 3 events')).toBe('');
  });
});
