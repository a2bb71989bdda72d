// `--lab KERNEL` for commands that replay a trace: run the trace's host operations on the real
// kernel in the lab first (lab/run.mjs, minutes, needs root and QEMU), then replay the lab's
// result, whose observed outcomes are the real kernel's. The report then shows model vs real.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';

export const LAB_KERNELS = ['6.1', '6.12', '7.2'] as const;

/** lab/run.mjs of this checkout (from src/cli under vitest, from dist/src/cli when built). */
function labScript(): string {
  for (const rel of ['../../lab/run.mjs', '../../../lab/run.mjs']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new UserError('--lab needs a source checkout of vfio-replay (lab/run.mjs not found)');
}

/**
 * Runs `trace` through the lab on `kernel` and returns the path of the resulting trace (same
 * events, the lab's header and real outcomes). Lab progress goes to stderr.
 */
export function labTrace(trace: string, kernel: string): string {
  if (!(LAB_KERNELS as readonly string[]).includes(kernel)) {
    throw new UserError(`--lab wants one of ${LAB_KERNELS.join(', ')}, got "${kernel}"`);
  }
  if (!existsSync(trace)) throw new UserError('cannot read trace: ENOENT', { file: trace });
  const out = mkdtempSync(join(tmpdir(), 'vfio-replay-lab-'));
  const r = spawnSync(process.execPath, [labScript(), '--kernel', kernel, '--out', out, trace], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const result = join(out, kernel, basename(trace).replace(/\.(pb|txt)$/, '') + '.pb');
  if (r.status !== 0 || !existsSync(result)) {
    throw new UserError(`the lab run failed (exit ${r.status ?? r.signal}); see its messages above`);
  }
  return result;
}
