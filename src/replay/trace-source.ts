// Where replay gets its packets: a binary trace (.pb) streamed by the codec in bounded memory, or
// any other file (the text twin) loaded whole by the codec (text traces are small, hand-written).
// Both yield the codec's packet shape.

import { loadTrace } from '../trace/codec.js';
import { readPackets, readPacketsSync, type TracePacket } from '../trace/reader.js';
import type { Trace } from '../trace/types.js';

export type Packet = TracePacket;

export function tracePackets(path: string): AsyncIterable<Packet> {
  // The binary reader's own iterator, not a wrapper around it: one async hop per packet, not two.
  return path.endsWith('.pb') ? readPackets(path) : textPackets(path);
}

/**
 * The same packets for a synchronous loop (the replay's hot path): no promise or microtask per
 * packet. A binary trace still streams (its reader does synchronous reads); a text twin is
 * loaded first, so its errors surface here, before the first packet, as they did on the first
 * packet of tracePackets.
 */
export async function tracePacketsSync(path: string): Promise<Iterable<Packet>> {
  return path.endsWith('.pb') ? readPacketsSync(path) : packetsOf(await loadTrace(path));
}

async function* textPackets(path: string): AsyncGenerator<Packet> {
  yield* packetsOf(await loadTrace(path));
}

function* packetsOf(trace: Trace): Generator<Packet> {
  yield { type: 'header', header: trace.header, offset: 0 };
  const more = trace.moreHeaders ?? [];
  let h = 0;
  for (let i = 0; i < trace.events.length; i++) {
    while (h < more.length && more[h].before === i) yield { type: 'header', header: more[h++].header, offset: 0 };
    yield { type: 'event', event: trace.events[i], index: i, offset: 0 };
  }
  while (h < more.length) yield { type: 'header', header: more[h++].header, offset: 0 };
}
