// `npm run fuzz [-- --count N] [--cli-count M] [--seed S] [--target pb,text,strace,qemu,cli]`:
// the issue-19 campaign. Prints, per target, the inputs run and how each ended; saves crashers
// under fuzz-crashers/<target>/ with a one-line repro beside each; exits 1 when any was found.
import { fileURLToPath } from 'node:url';
import { TARGETS, runTarget, type Target } from './campaign.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}

function whole(name: string, dflt: number): number {
  const v = Number(flag(name, String(dflt)));
  if (!Number.isSafeInteger(v) || v < 0) {
    process.stderr.write(`fuzz: --${name} wants a whole number\n`);
    process.exit(2);
  }
  return v;
}

const repo = fileURLToPath(new URL('../..', import.meta.url));
const count = whole('count', 100_000);
const cliCount = whole('cli-count', Math.max(20, Math.floor(count / 500)));
const seed = whole('seed', 19);
const targets = flag('target', TARGETS.join(',')).split(',') as Target[];
for (const t of targets) {
  if (!TARGETS.includes(t)) {
    process.stderr.write(`fuzz: unknown target "${t}" (targets: ${TARGETS.join(', ')})\n`);
    process.exit(2);
  }
}
const crashDir = flag('out', 'fuzz-crashers');
let crashers = 0;
process.stdout.write(`fuzz: seed ${seed}, ${count} in-process + ${cliCount} CLI inputs per target\n`);
for (const t of targets) {
  const started = Date.now();
  const r = runTarget({ repo, targets, count, cliCount, seed, crashDir }, t, (n) => process.stderr.write(`\r${t} ${n}/${count}`));
  process.stderr.write('\r\x1b[K');
  const classes = Object.entries(r.outcomes)
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  process.stdout.write(`${t.padEnd(7)} ${r.inputs} inputs (${((Date.now() - started) / 1000).toFixed(0)} s): ${classes}; ${r.crashers.length} distinct crashers\n`);
  for (const c of r.crashers) process.stdout.write(`  ${c.repro}\n`);
  crashers += r.crashers.length;
}
process.exitCode = crashers > 0 ? 1 : 0;
