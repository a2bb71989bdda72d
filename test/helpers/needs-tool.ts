// Tests that run an external program (QEMU, strace, gcc, ld, busybox, Chromium) gate on it here.
// On a machine without the program (a fresh clone with only Node) the gated tests SKIP and the file
// prints one line naming the program and the Debian package that provides it. Under CI=true they
// FAIL instead, with that same line: CI installs every tool (.ci/run), so a missing one there is a
// broken CI image, not a reason to pass quietly.
//
//   describe.runIf(needsTool('qemu-system-x86_64'))('inner guest', () => { ... });
//   it.runIf(needsTool('strace', 'gcc'))('traces fake-vmm', () => { ... });
import { spawnSync } from 'node:child_process';
import { relative } from 'node:path';
import { it } from 'vitest';

/** Every external program a test may need, with the apt package that installs it. */
export const TOOLS = {
  'qemu-system-x86_64': 'qemu-system-x86',
  strace: 'strace',
  gcc: 'gcc libc6-dev',
  ld: 'binutils',
  busybox: 'busybox',
  chromium: 'chromium',
  iasl: 'acpica-tools',
} as const;

export type Tool = keyof typeof TOOLS;

const found = new Map<Tool, boolean>();
const reported = new Set<string>();

/** Whether `tool` is on PATH (cached per test file). */
export function hasTool(tool: Tool): boolean {
  let ok = found.get(tool);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', 'command -v "$1" >/dev/null 2>&1', 'sh', tool]).status === 0;
    found.set(tool, ok);
  }
  return ok;
}

/** The one line a missing tool prints: which tool, and the command that installs it. */
export function missingLine(tools: readonly Tool[]): string {
  const pkgs = [...new Set(tools.map((t) => TOOLS[t]))].join(' ');
  return `${tools.join(', ')} not on PATH (install: apt-get install ${pkgs})`;
}

export function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/**
 * True when every tool is on PATH: pass it to `describe.runIf` / `it.runIf`. When one is missing it
 * returns false (the gated tests skip) and prints the missing-tool line once per file; under CI=true
 * it also registers a failing test carrying that line, so the run cannot go green without them.
 * Call it while tests are being collected (at a file's top level or inside a describe body).
 */
export function needsTool(...tools: Tool[]): boolean {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) return true;
  const line = missingLine(missing);
  if (isCI()) {
    it(`CI has ${missing.join(', ')}`, () => {
      throw new Error(`CI=true but ${line}; .ci/run installs it`);
    });
  } else if (!reported.has(line)) {
    reported.add(line);
    // Straight to the terminal: vitest would otherwise frame a console line with a header.
    process.stderr.write(`skip ${callerFile()}: ${line}\n`);
  }
  return false;
}

/** The test file that called needsTool, relative to the working directory, for the skip line. */
function callerFile(): string {
  const stack = new Error().stack?.split('\n') ?? [];
  for (const frame of stack) {
    const m = /(?:file:\/\/)?(\/[^\s()]+\.test\.ts)/.exec(frame);
    if (m) return relative(process.cwd(), m[1]!);
  }
  return 'a test file';
}
