// The in-process passes whose event rates the benchmark compares. Each returns the number of
// events it handled. They run the library code the CLI commands run, minus process start-up
// (measured apart: see run.ts), so a 10 MB trace is not dominated by ~0.3 s of node booting.
import { closeSync, createWriteStream, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { openTrace } from '../src/trace/source.js';
import type { TraceEvent } from '../src/trace/types.js';
import { replayFile } from '../src/replay/run.js';
import { LineWriter } from '../src/replay/output.js';
import { runCheck } from '../src/golden/check.js';
import type { ModelSelection } from '../src/replay/engine.js';

/**
 * The limit: frame and decode every packet with protobufjs' reflection-generated decoder, nothing
 * else (no conversion to the in-memory types, no checks). Reads the file in 4 MiB chunks.
 */
let packetType: protobuf.Type | undefined;

export function bareDecode(root: string, path: string): number {
  // Parsing the .proto is set-up, not decoding: done once, outside every timed pass but the warm-up.
  packetType ??= protobuf.loadSync(join(root, 'proto', 'vfio_trace.proto')).lookupType('vfio_trace.v1.Packet');
  const Packet = packetType;
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(4 * 1024 * 1024);
  let carry = Buffer.alloc(0);
  let packets = 0;
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let pos = 0;
      while (pos < buf.length) {
        // 0x0a <varint len> <Packet>
        let p = pos + 1;
        let len = 0;
        let shift = 0;
        let complete = false;
        while (p < buf.length) {
          const b = buf[p++];
          len += (b & 0x7f) * 2 ** shift;
          shift += 7;
          if ((b & 0x80) === 0) {
            complete = true;
            break;
          }
        }
        if (!complete || p + len > buf.length) break;
        Packet.decode(buf.subarray(p, p + len));
        packets++;
        pos = p + len;
      }
      carry = Buffer.from(buf.subarray(pos));
      if (n === 0) break;
    }
  } finally {
    closeSync(fd);
  }
  return packets;
}

/** What `vfio-replay info` does per trace: stream it, count events by kind, note seq and observed. */
export async function infoPass(path: string): Promise<number> {
  const src = await openTrace(path);
  const counts = new Map<string, number>();
  let observed = 0;
  let lastSeq = -1n;
  const key = (e: TraceEvent): string => (e.kind === 'ioctl' ? `ioctl ${e.op}` : e.kind);
  for await (const p of src.packets) {
    if (p.type === 'header') continue;
    const k = key(p.event);
    counts.set(k, (counts.get(k) ?? 0) + 1);
    lastSeq = p.event.seq;
    if (p.event.observed !== undefined) observed++;
  }
  if (lastSeq < -1n || observed < 0) throw new Error('unreachable');
  return src.stats.events;
}

/**
 * What `vfio-replay replay t.pb > /dev/null` does: decode, model, outcome log line per event,
 * written through the CLI's buffered LineWriter to /dev/null.
 */
export async function replayPass(path: string, sel: ModelSelection): Promise<number> {
  const sink = createWriteStream('/dev/null');
  const out = new LineWriter(sink);
  const s = await replayFile(path, { kernel: sel.kernel, vmm: sel.vmm }, { event: (line) => out.line(line), flush: () => out.flush() });
  await out.flush();
  await new Promise<void>((resolve) => sink.end(resolve));
  return s.events;
}

/** What `vfio-replay check --jobs 1 <listing>` does: replay, render the golden text, compare. */
export async function checkPass(listing: string, events: number): Promise<number> {
  const r = await runCheck([listing], { update: false, jobs: 1 });
  if (r.exitCode !== 0) throw new Error(`bench: check of ${listing} exited ${r.exitCode}`);
  return events;
}
