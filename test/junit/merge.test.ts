// junit-merge: sums, overlap refusal, and a reader strict enough to refuse broken reports.
import { describe, expect, test } from 'vitest';
import { UserError } from '../../src/errors.js';
import { mergeJunit } from '../../src/junit/merge.js';
import { parseXml, printXml } from '../../src/junit/xml.js';

const report = (cases: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="vfio-replay check" tests="9" failures="9">\n  <testsuite name="vfio-replay check" tests="9">\n${cases}  </testsuite>\n</testsuites>\n`;
const ok = (trace: string, v: string): string => `    <testcase classname="${trace}" name="${v}" time="0"></testcase>\n`;

describe('mergeJunit', () => {
  test('every suite of every report, counts recomputed from the test cases', () => {
    const a = report(ok('t/a.pb', 'linux-6.1') + `    <testcase classname="t/b.pb" name="linux-5.8"><failure message="x &lt; y" type="mismatch">- a\n+ b &amp; c</failure></testcase>\n`);
    const b = report(ok('t/c.pb', 'linux-7.2') + `    <testcase classname="t/d.pb" name="linux-7.0"><skipped message="unsupported"/></testcase>\n`);
    const m = mergeJunit([
      { file: 'a.xml', text: a },
      { file: 'b.xml', text: b },
    ]);
    expect(m.totals).toEqual({ tests: 4, failures: 1, errors: 0, skipped: 1 });
    expect(m.suites).toBe(2);
    const root = parseXml(m.xml, 'merged');
    expect(root.attrs.get('tests')).toBe('4');
    const failure = m.xml.slice(m.xml.indexOf('<failure'), m.xml.indexOf('</failure>'));
    expect(failure).toBe('<failure message="x &lt; y" type="mismatch">- a\n+ b &amp; c');
  });
  test('the same golden in two reports: overlapping shards, refused with the file', () => {
    const a = report(ok('t/a.pb', 'linux-6.1'));
    expect(() => mergeJunit([{ file: 'a.xml', text: a }, { file: 'b.xml', text: a }])).toThrow(
      /^b\.xml: test case "t\/a\.pb linux-6\.1" is also in a\.xml: the shards overlap/,
    );
  });
  test('not JUnit: refused', () => {
    expect(() => mergeJunit([{ file: 'x.xml', text: '<html></html>' }])).toThrow('x.xml: not a JUnit report: the root element is <html>');
  });
});

describe('parseXml', () => {
  const bad: [string, string, RegExp][] = [
    ['truncated', report(ok('t', 'v')).slice(0, 120), /unterminated value of name/],
    ['cut after an element', report(ok('t', 'v')).split('  </testsuite>')[0], /<testsuite> is not closed/],
    ['mismatched close', '<a><b></a></b>', /<\/a> closes <b>/],
    ['bare ampersand', '<a>x & y</a>', /bare "&"/],
    ['unknown entity', '<a>&nbsp;</a>', /unknown entity &nbsp;/],
    ['attribute twice', '<a x="1" x="2"/>', /attribute x twice/],
    ['trailing text', '<a/>junk', /text after the root element/],
    ['unquoted attribute', '<a x=1/>', /quoted value/],
  ];
  test.each(bad)('%s is refused with a byte offset', (_name, text, re) => {
    let err: unknown;
    try {
      parseXml(text, 'r.xml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^r\.xml: at byte \d+ \(0x[0-9a-f]+\): not a well-formed XML report: /);
    expect((err as Error).message).toMatch(re);
  });
  test('comments, CDATA, declaration, numeric entities; print and read back agree', () => {
    const el = parseXml('\ufeff<?xml version="1.0"?><!-- c --><r a=\'&#x41;&#66;\'><![CDATA[<x>]]><s/></r>', 'r.xml');
    expect(el.attrs.get('a')).toBe('AB');
    expect(el.children[0]).toBe('<x>');
    expect(parseXml(printXml(el), 'again')).toEqual(el);
  });
});
