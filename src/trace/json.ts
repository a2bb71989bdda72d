// JSON form of trace values for `dump --json` and `info --json`: u64 (bigint) as "0x..." hex
// strings so no value above 2^53 loses precision, byte strings as plain hex.
import { fmtBytes } from './text-lex.js';

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return (value < 0n ? '-0x' + (-value).toString(16) : '0x' + value.toString(16));
  if (value instanceof Uint8Array) return value.length === 0 ? '' : fmtBytes(value);
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, jsonReplacer);
}
