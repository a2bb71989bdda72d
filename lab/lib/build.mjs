// Builds what every lab mode needs on the host: the TypeScript side (codec + src/lab, compiled
// with the project's tsc) and the static runner the guest executes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { log, run } from './sh.mjs';

/** Compiles the TypeScript side (the codec and src/lab) and returns its modules. */
export async function loadTs(root) {
  const need = ['dist/src/lab/index.js', 'dist/src/trace/index.js'].map((p) => join(root, p));
  // tsc takes minutes on a loaded machine: skip it when the emitted JavaScript is newer than
  // every TypeScript source.
  if (need.every((p) => existsSync(p)) && newestMtime(join(root, 'src')) < statSync(need[0]).mtimeMs) {
    return { lab: await import(pathToFileURL(need[0]).href), trace: await import(pathToFileURL(need[1]).href) };
  }
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], {
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    if (!need.every((p) => existsSync(p))) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
    log('tsc reported errors outside the lab; using the emitted JavaScript');
  }
  const lab = await import(pathToFileURL(need[0]).href);
  const trace = await import(pathToFileURL(need[1]).href);
  return { lab, trace };
}

/** gcc -static of lab/runner/runner.c (a cross gcc for another arch); returns its path. */
// Built into the worktree's lab/work, not the kernel cache: the cache may be shared by several
// checkouts (a symlinked lab/.cache), and one checkout's build would replace another's runner
// between two boots of the same run.
export function buildRunner(labDir, outDir, arch = 'amd64') {
  const out = join(outDir, arch === 'amd64' ? 'runner' : `runner-${arch}`);
  mkdirSync(outDir, { recursive: true });
  const gcc = arch === 'amd64' ? 'gcc' : 'aarch64-linux-gnu-gcc';
  run(gcc, ['-static', '-O2', '-Wall', '-Wextra', '-o', out, join(labDir, 'runner/runner.c')]);
  return out;
}

function newestMtime(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}
