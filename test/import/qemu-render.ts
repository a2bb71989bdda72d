// Renders QEMU log-backend lines from the trace-events format strings, the way QEMU's generated
// code does: `qemu_log("<name> " <fmt> "\n", args...)`, with the per-era prefix
// (reference vmm-and-tracing.md §1.6). Used to make the QEMU log fixtures; never typed by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTraceEvents, splitFormat, type TraceEventDecl } from '../../src/import/qemu-events.js';
import { fixtures } from './helpers.js';

export const traceEvents: Map<string, TraceEventDecl> = new Map(
  parseTraceEvents(readFileSync(join(fixtures, 'qemu/trace-events'), 'utf8')).map((d) => [d.name, d]),
);

type Arg = string | number | bigint | boolean;

/** A small printf: the conversions QEMU's trace formats use. */
export function printf(format: string, args: Arg[]): string {
  let i = 0;
  let out = '';
  for (const p of splitFormat(format)) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    const a = args[i++];
    if (a === undefined) throw new Error(`missing argument for ${p.spec} in "${format}"`);
    const m = /^%([-+ #0]*)(\d*)/.exec(p.spec)!;
    const pad = (s: string): string => (m[2] ? s.padStart(Number(m[2]), m[1]!.includes('0') ? '0' : ' ') : s);
    const n = typeof a === 'boolean' ? (a ? 1n : 0n) : typeof a === 'string' ? 0n : BigInt(a);
    switch (p.conv) {
      case 's':
        out += String(a);
        break;
      case 'c':
        out += String(a);
        break;
      case 'd':
      case 'i':
      case 'u':
        out += pad(n.toString());
        break;
      case 'x':
      case 'X':
        out += pad(n.toString(16));
        break;
      case 'p':
        out += '0x' + n.toString(16);
        break;
    }
  }
  return out;
}

export type Era = 'tid' | 'iso' | 'none';

export interface Rendered {
  name: string;
  args: Arg[];
  tid?: number;
  ns?: bigint; // Unix time
}

/** One log line in the given era. */
export function renderLine(ev: Rendered, era: Era): string {
  const decl = traceEvents.get(ev.name);
  if (!decl) throw new Error(`${ev.name} is not in the fixture trace-events`);
  if (decl.args.length !== ev.args.length) throw new Error(`${ev.name} takes ${decl.args.length} arguments`);
  const body = `${ev.name} ${printf(decl.format, ev.args)}`;
  const ns = ev.ns ?? 0n;
  if (era === 'tid') {
    const sec = ns / 1_000_000_000n;
    const usec = (ns % 1_000_000_000n) / 1000n;
    return `${ev.tid ?? 1}@${sec}.${usec.toString().padStart(6, '0')}:${body}`;
  }
  if (era === 'iso') {
    const ms = Number(ns / 1_000_000n);
    const usec = (ns % 1_000_000_000n) / 1000n;
    return `${new Date(ms).toISOString().slice(0, 19)}.${usec.toString().padStart(6, '0')}Z ${body}`;
  }
  return body;
}
