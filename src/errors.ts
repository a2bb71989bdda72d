// The one error users see for bad input: a located, single-line message and exit status 2.
// Everything that reads user input (codec, text twin, importers, CLI flags, version names) throws
// this; the CLI prints `vfio-replay: <message>` and exits 2 without a stack trace.

export interface Location {
  file?: string;
  /** Event index within the trace (0-based), when known. */
  event?: number;
  /** Byte offset within a binary file. */
  offset?: number;
  /** 1-based line and column within a text file. */
  line?: number;
  column?: number;
}

export class UserError extends Error {
  readonly exitCode: number;
  readonly location: Location;
  constructor(message: string, location: Location = {}, exitCode = 2) {
    super(formatLocated(message, location));
    this.name = 'UserError';
    this.location = location;
    this.exitCode = exitCode;
  }
}

/** `file:line:col: msg`, `file: event 12 at byte 0x1a2: msg`, or just `msg`. */
export function formatLocated(message: string, loc: Location): string {
  const where: string[] = [];
  if (loc.file !== undefined) {
    let f = loc.file;
    if (loc.line !== undefined) f += `:${loc.line}` + (loc.column !== undefined ? `:${loc.column}` : '');
    where.push(f);
  }
  const detail: string[] = [];
  if (loc.event !== undefined) detail.push(`event ${loc.event}`);
  if (loc.offset !== undefined) detail.push(`at byte ${loc.offset} (0x${loc.offset.toString(16)})`);
  const prefix = [where.join(''), detail.join(' ')].filter((s) => s.length > 0).join(': ');
  return prefix.length > 0 ? `${prefix}: ${message}` : message;
}
