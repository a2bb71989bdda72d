// Merging the JUnit reports of a sharded gate (`check --shard i/n --junit junit-i.xml` on n CI
// runners) into one: every <testsuite> of every report, under one <testsuites> whose counts are
// the sums. A test case (classname + name) present in two reports means two shards overlapped (the
// same shard index run twice, or different shard counts): that is refused, since the merged report
// would count a golden twice and hide that another golden was never checked.

import { UserError } from '../errors.js';
import { parseXml, printXml, type XmlElement } from './xml.js';

export interface JunitInput {
  file: string;
  text: string;
}

export interface JunitTotals {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

export interface MergedJunit {
  xml: string;
  totals: JunitTotals;
  suites: number;
}

const COUNTS = ['tests', 'failures', 'errors', 'skipped'] as const;

function elements(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string' && c.name === name);
}

/** A suite's counts from its test cases (the attributes are optional in JUnit and may be stale). */
export function suiteTotals(suite: XmlElement): JunitTotals {
  const t: JunitTotals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const tc of elements(suite, 'testcase')) {
    t.tests++;
    if (elements(tc, 'failure').length > 0) t.failures++;
    else if (elements(tc, 'error').length > 0) t.errors++;
    else if (elements(tc, 'skipped').length > 0) t.skipped++;
  }
  return t;
}

export function mergeJunit(inputs: JunitInput[]): MergedJunit {
  const suites: XmlElement[] = [];
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const root = parseXml(input.text, input.file);
    const own = root.name === 'testsuite' ? [root] : root.name === 'testsuites' ? elements(root, 'testsuite') : null;
    if (own === null) throw new UserError(`not a JUnit report: the root element is <${root.name}>, not <testsuites> or <testsuite>`, { file: input.file });
    for (const suite of own) {
      for (const tc of elements(suite, 'testcase')) {
        const key = `${tc.attrs.get('classname') ?? ''} ${tc.attrs.get('name') ?? ''}`;
        const before = seen.get(key);
        if (before !== undefined)
          throw new UserError(`test case "${key}" is also in ${before}: the shards overlap (same shard twice, or different shard counts?)`, { file: input.file });
        seen.set(key, input.file);
      }
      suites.push(suite);
    }
  }
  const totals: JunitTotals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const suite of suites) {
    const t = suiteTotals(suite);
    for (const k of COUNTS) {
      totals[k] += t[k];
      suite.attrs.set(k, String(t[k]));
    }
  }
  const root: XmlElement = { name: 'testsuites', attrs: new Map(), children: suites };
  root.attrs.set('name', 'vfio-replay check');
  for (const k of COUNTS) root.attrs.set(k, String(totals[k]));
  return { xml: `<?xml version="1.0" encoding="UTF-8"?>\n${printXml(root)}\n`, totals, suites: suites.length };
}
