import { describe, expect, test } from 'vitest';
import { goldenPathFor, parseGoldenPath, parseSelectionToken, selectionToken } from '../../src/golden/naming.js';
import { parseGoldenHead, renderGoldenHead, renderGoldenTail } from '../../src/golden/golden-file.js';

describe('golden naming', () => {
  test('NAME@KERNEL+VMM.golden, with series ids containing @', () => {
    const sel = { kernel: 'barmap-at-enable@v3', vmm: null };
    const p = goldenPathFor('traces/seeds/003', 'barmap', sel);
    expect(p).toBe('traces/seeds/003/barmap@barmap-at-enable@v3.golden');
    expect(parseGoldenPath(p)).toEqual({ dir: 'traces/seeds/003', name: 'barmap', token: 'barmap-at-enable@v3' });
    expect(parseSelectionToken('linux-6.19+openvmm-3609')).toEqual({ kernel: 'linux-6.19', vmm: 'openvmm-3609' });
    expect(selectionToken({ kernel: 'linux-6.19', vmm: 'openvmm-3609' })).toBe('linux-6.19+openvmm-3609');
  });
  test('malformed tokens and names are rejected', () => {
    expect(parseSelectionToken('')).toBeNull();
    expect(parseSelectionToken('linux-6.19+')).toBeNull();
    expect(parseSelectionToken('a b')).toBeNull();
    expect(parseSelectionToken('a+b+c')).toBeNull();
    expect(parseGoldenPath('x/noversion.golden')).toBeNull();
    expect(parseGoldenPath('x/a@b.txt')).toBeNull();
  });
  test('golden header round-trips', () => {
    const h = { trace: 'a.pb', selection: { kernel: 'linux-5.8', vmm: null }, title: 'seed 004' };
    const text = renderGoldenHead(h) + '#0000 x\n' + renderGoldenTail({ events: 1, divergences: 0, unsupported: 0 });
    expect(parseGoldenHead(text)).toEqual(h);
    expect(text.endsWith('summary: 1 event, 0 divergences, 0 unsupported\n')).toBe(true);
    expect(parseGoldenHead('not a golden')).toBeNull();
  });
});
