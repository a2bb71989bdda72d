// Goldens are replaced, never half-written: write a temp file in the same folder, then rename it
// over the target (atomic on POSIX file systems). A crash leaves the old golden or the new one,
// and a temp file the next write (or `check`) removes: see temp-file.ts.

import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { sweepBeforeWriting, tempPathFor } from '../temp-file.js';

export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  sweepBeforeWriting(path);
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
    throw err;
  }
}
