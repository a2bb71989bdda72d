// A small, strict XML reader for JUnit reports: elements, attributes, text, comments, CDATA, the
// XML declaration and the five predefined entities (plus numeric ones). Enough to merge the
// reports CI shards write, and strict enough to refuse a truncated or hand-mangled one with the
// byte offset where it stops being XML. No DTDs, no namespaces (JUnit uses neither).

import { UserError } from '../errors.js';

export interface XmlElement {
  name: string;
  attrs: Map<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlElement | string;

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const SPACE = /[ \t\r\n]*/y;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function parseXml(text: string, file: string): XmlElement {
  let pos = 0;
  const fail = (msg: string): never => {
    throw new UserError(`not a well-formed XML report: ${msg}`, { file, offset: Buffer.byteLength(text.slice(0, pos)) });
  };
  const skipSpace = (): void => {
    SPACE.lastIndex = pos;
    SPACE.exec(text);
    pos = SPACE.lastIndex;
  };
  const name = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (m === null) return fail('expected a name');
    pos = NAME.lastIndex;
    return m[0];
  };
  const unescape = (raw: string, at: number): string =>
    raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (all, ent: string | undefined, off: number) => {
      if (ent === undefined) {
        pos = at + off;
        return fail('a bare "&"');
      }
      if (ent.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ent.slice(2), 16));
      if (ent.startsWith('#')) return String.fromCodePoint(Number.parseInt(ent.slice(1), 10));
      const v = ENTITIES[ent];
      if (v === undefined) {
        pos = at + off;
        return fail(`unknown entity ${all}`);
      }
      return v;
    });
  /** Comments, processing instructions and white space between elements. */
  const misc = (): void => {
    for (;;) {
      skipSpace();
      if (text.startsWith('<!--', pos)) {
        const end = text.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (text.startsWith('<?', pos)) {
        const end = text.indexOf('?>', pos + 2);
        if (end < 0) fail('unterminated <?...?>');
        pos = end + 2;
      } else return;
    }
  };
  const element = (): XmlElement => {
    if (text[pos] !== '<') fail('expected "<"');
    pos++;
    const el: XmlElement = { name: name(), attrs: new Map(), children: [] };
    for (;;) {
      skipSpace();
      if (text.startsWith('/>', pos)) {
        pos += 2;
        return el;
      }
      if (text[pos] === '>') {
        pos++;
        break;
      }
      const key = name();
      skipSpace();
      if (text[pos] !== '=') fail(`expected "=" after ${key}`);
      pos++;
      skipSpace();
      const q = text[pos];
      if (q !== '"' && q !== "'") fail(`expected a quoted value for ${key}`);
      const end = text.indexOf(q, pos + 1);
      if (end < 0) fail(`unterminated value of ${key}`);
      const raw = text.slice(pos + 1, end);
      if (raw.includes('<')) fail(`"<" in the value of ${key}`);
      if (el.attrs.has(key)) fail(`attribute ${key} twice`);
      el.attrs.set(key, unescape(raw, pos + 1));
      pos = end + 1;
    }
    for (;;) {
      if (pos >= text.length) fail(`<${el.name}> is not closed`);
      if (text.startsWith('</', pos)) {
        pos += 2;
        const closing = name();
        if (closing !== el.name) fail(`</${closing}> closes <${el.name}>`);
        skipSpace();
        if (text[pos] !== '>') fail('expected ">"');
        pos++;
        return el;
      }
      if (text.startsWith('<![CDATA[', pos)) {
        const end = text.indexOf(']]>', pos);
        if (end < 0) fail('unterminated CDATA');
        el.children.push(text.slice(pos + 9, end));
        pos = end + 3;
      } else if (text.startsWith('<!--', pos) || text.startsWith('<?', pos)) misc();
      else if (text[pos] === '<') el.children.push(element());
      else {
        const end = text.indexOf('<', pos);
        const stop = end < 0 ? text.length : end;
        el.children.push(unescape(text.slice(pos, stop), pos));
        pos = stop;
      }
    }
  };
  if (text.charCodeAt(0) === 0xfeff) pos = 1;
  misc();
  const root = element();
  misc();
  if (pos !== text.length) fail('text after the root element');
  return root;
}

/** Text or attribute value as XML: the markup characters escaped, characters XML 1.0 forbids dropped. */
export function xmlEscape(s: string): string {
  return (
    s
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      // eslint-disable-next-line no-control-regex
      .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '')
  );
}

/** Writes an element back, indenting element-only content; text content is written as it was. */
export function printXml(el: XmlElement, indent = ''): string {
  const attrs = [...el.attrs].map(([k, v]) => ` ${k}="${xmlEscape(v)}"`).join('');
  if (el.children.length === 0) return `${indent}<${el.name}${attrs}/>`;
  const elementsOnly = el.children.every((c) => typeof c !== 'string' || c.trim() === '');
  if (elementsOnly) {
    const inner = el.children.filter((c): c is XmlElement => typeof c !== 'string').map((c) => printXml(c, indent + '  '));
    return `${indent}<${el.name}${attrs}>\n${inner.join('\n')}\n${indent}</${el.name}>`;
  }
  const inner = el.children.map((c) => (typeof c === 'string' ? xmlEscape(c) : printXml(c))).join('');
  return `${indent}<${el.name}${attrs}>${inner}</${el.name}>`;
}
