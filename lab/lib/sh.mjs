// Small process helpers shared by the lab scripts (kernel fetch, image build, boot).
import { execFileSync, spawnSync } from 'node:child_process';

/** Run a command, return its stdout as text; throw with its stderr when it fails. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || '').trim().slice(-2000)}`);
  }
  return r.stdout;
}

/** Run a command with its output shown to the user (long apt operations). */
export function runLoud(cmd, args, opts = {}) {
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

/** Whether an executable is on PATH. */
export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

export function log(msg) {
  process.stderr.write(`[lab] ${msg}\n`);
}
