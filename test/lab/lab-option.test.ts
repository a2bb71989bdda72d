// `--lab KERNEL`: argument checks happen before any lab work starts (the lab run itself takes
// minutes and root; it is exercised by `npm run lab`, not here).
import { describe, expect, test } from 'vitest';
import { labTrace, LAB_KERNELS } from '../../src/cli/lab-option.js';
import { UserError } from '../../src/errors.js';

describe('labTrace argument checks', () => {
  test('the lab kernels are the three series the lab fetches', () => {
    expect([...LAB_KERNELS]).toEqual(['6.1', '6.12', '7.2']);
  });

  test('an unknown kernel is a user error naming the choices', () => {
    expect(() => labTrace('lab/scenarios/io-bar.txt', '5.4')).toThrow(UserError);
    expect(() => labTrace('lab/scenarios/io-bar.txt', '5.4')).toThrow(/6\.1, 6\.12, 7\.2/);
  });

  test('a missing trace is a user error with the file', () => {
    expect(() => labTrace('/nonexistent/t.pb', '6.1')).toThrow(/\/nonexistent\/t\.pb/);
  });
});
