// Temporary files for atomic writes (a binary trace, a golden, a JUnit report): written beside the
// target as `.<name>.<pid>.tmp`, then renamed over it. A process killed mid-write (SIGKILL, OOM)
// leaves its temp file behind; the pid in the name lets the next write to the same target, and
// `check` over a folder, tell a dead writer's leftover from a live one's and remove it.
import { readdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const TEMP = /^\.(.+)\.(\d+)\.tmp$/;

/** The temporary file this process writes `path` through. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
}

/** Whether process `pid` exists (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Leftover {
  path: string;
  pid: number;
  /** The target it was being written to. */
  target: string;
}

/**
 * Removes the temp files in `dir` left by processes that no longer run: all of them, or only those
 * of the target named `name`. Returns what it removed (a file it cannot remove is left and not
 * listed). A pid reused by a live process keeps its file: never remove what may be being written.
 */
export function removeLeftovers(dir: string, name?: string): Leftover[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: Leftover[] = [];
  for (const e of entries) {
    const m = TEMP.exec(e);
    if (m === null || (name !== undefined && m[1] !== name)) continue;
    const pid = Number(m[2]);
    if (!Number.isSafeInteger(pid) || alive(pid)) continue;
    try {
      unlinkSync(join(dir, e));
      removed.push({ path: join(dir, e), pid, target: join(dir, m[1]) });
    } catch {
      // gone already (another cleaner), or not ours to remove
    }
  }
  return removed;
}

/** The line that says a leftover was removed. */
export function leftoverNote(l: Leftover): string {
  return `removed ${l.path}, left by process ${l.pid} (no longer running) while writing ${l.target}`;
}

/** removeLeftovers for the target `path`, reported on stderr. */
export function sweepBeforeWriting(path: string): void {
  for (const l of removeLeftovers(dirname(path), basename(path))) process.stderr.write(`vfio-replay: ${leftoverNote(l)}\n`);
}
