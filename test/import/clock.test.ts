// strace time stamps -> one absolute scale: -tt time-of-day anchored by the tracer's info file
// (capture start and UTC offset), across midnight; -ttt as is; -r accumulated.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStraceLog } from '../../src/import/strace-log.js';
import { straceDir } from './helpers.js';

const NS = 1_000_000_000n;
const text = readFileSync(join(straceDir, 'tracer-default.strace'), 'latin1');
const lines = text.split('\n').filter((l) => l !== '');

/** The same capture with its -tt stamps replaced, in order, by `stamps` (one per line, cycling). */
function restamp(stamps: string[]): string {
  return lines.map((l, i) => l.replace(/^(\d+\s+)\d{2}:\d{2}:\d{2}\.\d{6}/, `$1${stamps[Math.min(i, stamps.length - 1)]}`)).join('\n') + '\n';
}

const firstNs = (t: string, anchor: Parameters<typeof readStraceLog>[2]) => {
  const log = readStraceLog(t, 'x.strace', anchor);
  const first = log.items.find((i) => i.type === 'call')!;
  return { log, ns: first.type === 'call' ? first.startNs! : 0n };
};

describe('strace clocks', () => {
  it('-tt with an anchor: local time of day on the capture day, made UTC', () => {
    const day = BigInt(Date.UTC(2026, 10, 22)) * 1_000_000n; // 2026-11-22T00:00:00Z in ns
    const t = restamp(['10:00:00.000001', '10:00:00.000002']);
    // A capture started at 09:59 local on a machine at UTC+01:00 (08:59 UTC).
    const { log, ns } = firstNs(t, { startEpochNs: day + (8n * 3600n + 59n * 60n) * NS, utcOffsetSec: 3600 });
    expect(log.absolute).toBe(true);
    expect(ns).toBe(day + 9n * 3600n * NS + 1000n);
  });

  it('-tt across midnight keeps counting forward', () => {
    const t = restamp(['23:59:59.999000', '00:00:00.001000']);
    const log = readStraceLog(t, 'x.strace', null);
    const ends = log.items.filter((i) => i.type === 'call').map((i) => (i.type === 'call' ? i.endNs! : 0n));
    expect(log.absolute).toBe(false);
    expect(ends[1]! - ends[0]!).toBe(2_000_000n);
    for (let i = 1; i < ends.length; i++) expect(ends[i]! >= ends[i - 1]!).toBe(true);
  });

  it('-ttt is Unix time; -r deltas add up', () => {
    const ttt = readStraceLog(readFileSync(join(straceDir, 'ttt-no-y.strace'), 'latin1'), 'a', null);
    expect(ttt.absolute).toBe(true);
    const rel = readStraceLog(readFileSync(join(straceDir, 'relative.strace'), 'latin1'), 'b', null);
    expect(rel.absolute).toBe(false);
    const deltas = readFileSync(join(straceDir, 'relative.strace'), 'latin1')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => /^\d+\s+(\d+)\.(\d{6}) /.exec(l)!)
      .reduce((a, m) => a + BigInt(m[1]!) * NS + BigInt(m[2]!) * 1000n, 0n);
    const last = rel.items[rel.items.length - 1]!;
    expect(last.type === 'call' ? last.endNs : last.ns).toBe(deltas);
  });
});
