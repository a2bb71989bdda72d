// The reader's rules catch what they are there to catch: traces built here with protobufjs from the
// test-only schema, each breaking one rule the Perfetto UI relies on.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { readPerfetto } from './perfetto-reader.js';

const Trace = protobuf.loadSync(fileURLToPath(new URL('perfetto-subset.proto', import.meta.url))).lookupType('perfetto.protos.Trace');
const dir = mkdtempSync(join(tmpdir(), 'vfio-perfetto-reader-'));

function read(packet: object[]): string[] {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.pftrace`);
  writeFileSync(file, Trace.encode(Trace.fromObject({ packet })).finish());
  return readPerfetto(file).violations;
}

const track = { trustedPacketSequenceId: 1, sequenceFlags: 1, trackDescriptor: { uuid: 7, name: 't' } };
const names = { eventNames: [{ iid: 1, name: 'a' }] };
const begin = (ts: number, extra: object = {}) => ({ timestamp: ts, trustedPacketSequenceId: 1, sequenceFlags: 2, trackEvent: { type: 1, trackUuid: 7, nameIid: 1 }, ...extra });
const endAt = (ts: number) => ({ timestamp: ts, trustedPacketSequenceId: 1, trackEvent: { type: 2, trackUuid: 7 } });

describe('perfetto-reader rules', () => {
  it('a well-formed trace has no violation', () => {
    expect(read([track, begin(1, { internedData: names }), endAt(2)])).toEqual([]);
  });
  it('an interned id used before it is defined', () => {
    expect(read([track, begin(1), endAt(2)])).toEqual(['packet 1: eventNames iid 1 used before it is defined on sequence 1']);
  });
  it('an interned id defined on another sequence', () => {
    const other = { trustedPacketSequenceId: 2, sequenceFlags: 1, internedData: names };
    expect(read([track, other, begin(1), endAt(2)])).toEqual(['packet 2: eventNames iid 1 used before it is defined on sequence 1']);
  });
  it('incremental state never cleared', () => {
    const t = { trustedPacketSequenceId: 1, trackDescriptor: { uuid: 7, name: 't' } };
    expect(read([t, begin(1, { internedData: names }), endAt(2)])).toContain('packet 1: needs incremental state before the sequence cleared it');
  });
  it('an iid redefined, an undescribed track, a slice left open, an END without BEGIN, time going back', () => {
    const v = read([
      track,
      begin(5, { internedData: names }),
      { ...begin(6), internedData: { eventNames: [{ iid: 1, name: 'b' }] } },
      { timestamp: 4, trustedPacketSequenceId: 1, trackEvent: { type: 2, trackUuid: 9 } },
    ]);
    expect(v).toEqual([
      'packet 2: eventNames iid 1 redefined a -> b',
      'packet 3: timestamp 4 before 6',
      'packet 3: event on undescribed track 9',
      'packet 3: SLICE_END with no open slice on track 9',
      'slice a on track 7 never ends',
      'slice b on track 7 never ends',
    ]);
  });
});
