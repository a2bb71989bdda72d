import { describe, expect, test } from 'vitest';
import { colorizeDiff, describeFirstDifference, firstDifference, unifiedDiff } from '../../src/golden/diff.js';

const golden = ['head', '', '#0000 host  open => ok [core.open]', '#0001 host  mem-read bar0+0x8 len=4 => ok populate(bar0) [fault.populate]', '', 'summary: 2 events'].join('\n');
const now = golden.replace('=> ok populate(bar0) [fault.populate]', '=> SIGBUS BUS_ADRERR [fault.memory-disabled]');

describe('golden diffs', () => {
  test('the first difference names the event and both rules', () => {
    const d = firstDifference(golden, now, 5);
    expect(d).not.toBeNull();
    expect(d?.index).toBe(1);
    expect(d?.line).toBe(4);
    expect(d?.ruleNow).toBe('fault.memory-disabled');
    expect(d?.ruleGolden).toBe('fault.populate');
    expect(d?.context).toEqual(['#0000 host  open => ok [core.open]']);
    const text = describeFirstDifference(d!);
    expect(text).toContain('first difference at event #0001 (rule now fault.memory-disabled, golden had fault.populate)');
  });
  test('identical texts have no difference', () => {
    expect(firstDifference(golden, golden, 3)).toBeNull();
  });
  test('unified diff with file headers, colored only on request', () => {
    const u = unifiedDiff('a.golden', golden, now);
    expect(u).toContain('--- a.golden');
    expect(u).toContain('-#0001 host  mem-read bar0+0x8 len=4 => ok populate(bar0) [fault.populate]');
    expect(u).toContain('+#0001 host  mem-read bar0+0x8 len=4 => SIGBUS BUS_ADRERR [fault.memory-disabled]');
    expect(u).not.toContain('\x1b[');
    expect(colorizeDiff(u)).toContain('\x1b[31m-#0001');
  });
});
