// The importers: strace logs, sysfs snapshots and QEMU trace logs -> Trace.
export { importTrace, renderReport, type ImportInputs, type ImportReport } from './importer.js';
export { readStraceLog, type StraceLog, type ClockAnchor } from './strace-log.js';
export { StraceConverter, type ImportedEvent, type StraceStats } from './strace-events.js';
export { readQemuLog, type QemuLogResult, type QemuLogOptions } from './qemu-log.js';
export { readSnapshot, parseResource, type Snapshot } from './sysfs.js';
export { parseTraceEvents, formatToRegex, splitFormat, USED_EVENTS, RENAMED, type TraceEventDecl } from './qemu-events.js';
