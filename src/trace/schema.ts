// The trace schema at run time. proto/vfio_trace.proto is parsed by protobufjs when the codec is
// first used, and its reflection (types, field numbers, oneofs, enums) is flattened into the small
// tables below, which drive both the wire decoder and the encoder.
//
// Why load the .proto at run time rather than generate static code or rebuild the schema in code:
// the .proto stays the single source of truth (DESIGN.md), a field added there is carried by the
// codec with no second edit, and no generated file can drift from it. protobufjs' own generated
// decoders are not used because they neither reject a known field sent with the wrong wire type
// nor count unknown fields, and they hand out Long objects; see wire.ts.
import protobuf from 'protobufjs';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE = 'vfio_trace.v1';
export const FORMAT_VERSION = 1;

/** How a field's value is represented in the generic decoded object. */
export type FieldKind = 'u64' | 's64' | 'u32' | 'i32' | 's32' | 'bool' | 'enum' | 'string' | 'bytes' | 'msg';

export interface FieldInfo {
  name: string; // camelCase, as protobufjs names it (matches the names in types.ts)
  protoName: string; // snake_case, as written in the .proto
  id: number;
  kind: FieldKind;
  repeated: boolean;
  /** Explicit presence: a member of a oneof (real or proto3 `optional`) or a message field. */
  presence: boolean;
  /** Name of the real (non-synthetic) oneof this field belongs to, if any. */
  oneof: string | null;
  /** For kind 'enum': value number -> kebab-case name (`CAPTURE_SOURCE_HAND_WRITTEN` -> `hand-written`). */
  enumNames?: Map<number, string>;
  /** For kind 'enum': kebab-case name -> value number. */
  enumValues?: Map<string, number>;
  /** For kind 'msg'. */
  msg?: MessageInfo;
  /** `[deprecated = true]`: still decoded (convert.ts maps it to its successor), never written. */
  deprecated?: true;
}

export interface MessageInfo {
  name: string; // short name, e.g. "Packet"
  byId: Map<number, FieldInfo>;
  /** Fields in ascending field-number order: the canonical encoding order. */
  ordered: FieldInfo[];
  byName: Map<string, FieldInfo>;
}

/** Walk up from this module to the package root (works from src/trace/ under vitest and dist/src/trace/). */
function protoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto', 'vfio_trace.proto');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('proto/vfio_trace.proto not found above ' + fileURLToPath(import.meta.url));
}

const SCALARS: Record<string, FieldKind> = {
  uint64: 'u64',
  sint64: 's64',
  uint32: 'u32',
  int32: 'i32',
  sint32: 's32',
  bool: 'bool',
  string: 'string',
  bytes: 'bytes',
};

function enumTables(e: protobuf.Enum): { names: Map<number, string>; values: Map<string, number> } {
  const all = Object.keys(e.values);
  // The common prefix is the enum's own name in SCREAMING_CASE plus '_' (proto style guide).
  const prefix = all.length > 1 ? commonPrefix(all) : '';
  const names = new Map<number, string>();
  const values = new Map<string, number>();
  for (const key of all) {
    const num = e.values[key];
    const kebab = key.slice(prefix.length).toLowerCase().replace(/_/g, '-');
    names.set(num, kebab);
    values.set(kebab, num);
  }
  return { names, values };
}

function commonPrefix(words: string[]): string {
  let p = words[0];
  for (const w of words) while (!w.startsWith(p)) p = p.slice(0, -1);
  // Cut back to a whole `WORD_` boundary so "ENTRY" / "ENTRY_WITH_WAKEUP" keep their first word.
  const cut = p.lastIndexOf('_');
  return cut >= 0 ? p.slice(0, cut + 1) : '';
}

function buildMessage(t: protobuf.Type, memo: Map<string, MessageInfo>): MessageInfo {
  const key = t.fullName;
  const known = memo.get(key);
  if (known !== undefined) return known;
  const info: MessageInfo = { name: t.name, byId: new Map(), ordered: [], byName: new Map() };
  memo.set(key, info);
  for (const f of [...t.fieldsArray].sort((a, b) => a.id - b.id)) {
    f.resolve();
    let kind: FieldKind;
    const fi: FieldInfo = {
      name: f.name,
      protoName: (f as unknown as { protoName?: string }).protoName ?? f.name,
      id: f.id,
      kind: 'u32',
      repeated: f.repeated,
      presence: f.partOf !== null || f.resolvedType instanceof protobuf.Type,
      oneof: f.partOf !== null && !f.partOf.name.startsWith('_') ? f.partOf.name : null,
    };
    if (f.options?.deprecated === true) fi.deprecated = true;
    if (f.resolvedType instanceof protobuf.Type) {
      kind = 'msg';
      fi.msg = buildMessage(f.resolvedType, memo);
    } else if (f.resolvedType instanceof protobuf.Enum) {
      kind = 'enum';
      const { names, values } = enumTables(f.resolvedType);
      fi.enumNames = names;
      fi.enumValues = values;
    } else {
      const k = SCALARS[f.type];
      if (k === undefined) throw new Error(`vfio_trace.proto: field ${t.name}.${f.name} has unsupported type ${f.type}`);
      kind = k;
    }
    fi.kind = kind;
    info.byId.set(f.id, fi);
    info.byName.set(f.name, fi);
    info.ordered.push(fi);
  }
  return info;
}

export interface Schema {
  packet: MessageInfo;
  protoFile: string;
}

let cached: Schema | undefined;

/** The schema, parsed once per process. */
export function schema(): Schema {
  if (cached !== undefined) return cached;
  const file = protoPath();
  const root = protobuf.loadSync(file);
  root.resolveAll();
  const memo = new Map<string, MessageInfo>();
  const packet = buildMessage(root.lookupType(`${PACKAGE}.Packet`), memo);
  cached = { packet, protoFile: file };
  return cached;
}

const kebabCache = new Map<string, string>();

/** camelCase -> kebab-case: `guestMmioWrite` -> `guest-mmio-write` (event kinds and ioctl ops; memoized). */
export function kebab(name: string): string {
  let k = kebabCache.get(name);
  if (k === undefined) {
    k = name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    kebabCache.set(name, k);
  }
  return k;
}

const camelCache = new Map<string, string>();

/** kebab-case -> camelCase (memoized: it runs once per encoded event). */
export function camel(name: string): string {
  let c = camelCache.get(name);
  if (c === undefined) {
    c = name.replace(/-([a-z])/g, (_m, ch: string) => ch.toUpperCase());
    camelCache.set(name, c);
  }
  return c;
}
