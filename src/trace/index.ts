// The trace library: what the rest of vfio-replay imports.
export * from './types.js';
export { readPackets, TraceReader, totalUnknown, MAX_PACKET, type TracePacket, type ReaderStats } from './reader.js';
export { loadTrace, decodeTrace, encodeTrace, decodePackets, collectTrace, encodeHeaderPacket, encodeEventPacket } from './codec.js';
export { TraceWriter } from './writer.js';
export { parseText, TextParser, type TextPacket } from './text-parse.js';
export { printText, TextPrinter, describeEvent, describeObserved, printEventLine, printHeaderLines } from './text-print.js';
export { eventKinds, ioctlOps } from './convert.js';
