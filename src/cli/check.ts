// `vfio-replay check [paths]`: replay every listed trace under each listed version and diff with
// its golden. Exit 0 all match, 1 mismatch / missing / obsolete, 2 bad input, 125 a trace cannot be
// expressed in this model version (for `git bisect run`). `--update` writes goldens, never in CI.

import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { UserError } from '../errors.js';
import { leftoverNote, removeLeftovers } from '../temp-file.js';
import { writeFileAtomic } from '../golden/atomic.js';
import { inCI, parseShard, runCheck, type Shard } from '../golden/check.js';
import { useColor } from '../golden/diff.js';
import { formatErrors, formatText, githubAnnotations, junitXml } from '../golden/report.js';
import { writeFailingReports } from '../report/check-html.js';
import { corpusCoverage, coverageText } from '../coverage/index.js';
import { changesByRule } from '../coverage/group.js';

interface CheckFlags {
  update?: boolean;
  junit?: string;
  html?: string;
  coverage?: boolean;
  shard?: string;
  jobs?: string;
  context: string;
  verbose?: boolean;
  strictDevice?: boolean;
}

export function register(program: Command): void {
  program
    .command('check')
    .description('replay every golden\'s trace with the golden\'s model versions and diff (the CI gate)')
    .argument('[paths...]', 'folders, traces, .versions listings or .golden files (default: traces)')
    .option('-u, --update', 'rewrite changed goldens, create missing ones, delete obsolete ones (refused when CI is set)')
    .option('--junit <file>', 'also write a JUnit XML report')
    .option('--coverage', 'also list the model rules and switches each golden exercises, and those none does')
    .option('--html <dir>', 'also write an HTML report (vfio-replay report) of each failing golden into this folder')
    .option('--shard <i/n>', 'check only the i-th of n shards (1-based), e.g. 2/4')
    .option('--jobs <n>', `processes checking goldens: this one plus n-1 children (default: one more per ~2,800 small goldens of work, from ~4,000 goldens or ~55 MiB of traces, up to the ${availableParallelism()} CPUs this process may use)`)
    .option('--context <k>', 'log lines shown before the first difference', '5')
    .option('--verbose', 'also list the goldens that match')
    .option('--strict-device', 'device notes (the trace showed the hardware state of the device otherwise than the model: adopted, not blamed on the model) count as divergences')
    .addHelpText(
      'after',
      [
        '',
        'Exit status: 0 all match, 1 mismatch/missing/obsolete, 2 bad input, 125 cannot be expressed (git bisect run: skip).',
        'CI (env CI set): never writes; missing and obsolete goldens fail. GITHUB_ACTIONS=true adds ::error annotations.',
        'Examples:',
        '  npx vfio-replay check',
        '  npx vfio-replay check traces/seeds/004-mse-live-mappings --update',
      ].join('\n'),
    )
    .action(async (paths: string[], flags: CheckFlags) => {
      process.exitCode = await runCheckCommand(paths, flags);
    });
}

async function runCheckCommand(paths: string[], flags: CheckFlags): Promise<number> {
  const ci = inCI();
  if (flags.update === true && ci)
    throw new UserError(
      'refusing to --update goldens: CI is set, and CI never writes goldens. Run `npx vfio-replay check --update` locally, review the diff and commit it',
    );
  let shard: Shard | undefined;
  if (flags.shard !== undefined) {
    const s = parseShard(flags.shard);
    if (s === null) throw new UserError(`--shard wants i/n with 1 <= i <= n, got "${flags.shard}"`);
    shard = s;
  }
  let jobs: number | undefined;
  if (flags.jobs !== undefined) {
    jobs = Number(flags.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new UserError(`--jobs wants a whole number >= 1, got "${flags.jobs}"`);
  }
  const context = Number(flags.context);
  if (!Number.isInteger(context) || context < 0) throw new UserError(`--context wants a whole number, got "${flags.context}"`);
  const strictDevice = flags.strictDevice === true;
  if (strictDevice && flags.update === true)
    throw new UserError('--strict-device cannot be combined with --update: goldens keep device notes as notes (check them strictly, write them plainly)');

  const tty = process.stderr.isTTY === true;
  let lastDraw = 0;
  let drawn = false;
  const onProgress = tty
    ? (done: number, total: number, current: string): void => {
        const now = Date.now();
        if (total < 20 || (now - lastDraw < 100 && done < total)) return;
        lastDraw = now;
        drawn = true;
        const cols = process.stderr.columns ?? 80;
        process.stderr.write(`\r\x1b[K${`check ${done}/${total} ${current}`.slice(0, cols - 1)}`);
      }
    : undefined;

  const report = await runCheck(paths, { update: flags.update === true, jobs, shard, context, strictDevice, onProgress });
  if (drawn) process.stderr.write('\r\x1b[K');

  // Temp files of a write killed mid-way (`check --update`, `encode -o`) sit next to the goldens
  // and traces checked here: remove those whose writer is gone, and say so.
  const dirs = new Set<string>();
  for (const r of report.results) for (const p of [r.job.golden, r.job.trace]) dirs.add(dirname(p));
  for (const o of report.obsolete) dirs.add(dirname(o.path));
  for (const d of dirs) for (const l of removeLeftovers(d)) process.stderr.write(`vfio-replay: ${leftoverNote(l)}\n`);
  process.stderr.write(formatErrors(report));
  process.stdout.write(formatText(report, { color: useColor(process.stdout), ci, verbose: flags.verbose === true }));
  for (const l of changesByRule(report)) process.stdout.write(l + '\n');
  if (process.env.GITHUB_ACTIONS === 'true') process.stdout.write(githubAnnotations(report));
  if (flags.junit !== undefined) {
    try {
      writeFileAtomic(flags.junit, junitXml(report));
    } catch (err) {
      throw new UserError(`cannot write JUnit report: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: flags.junit });
    }
  }
  if (flags.html !== undefined) {
    let pages: string[];
    try {
      pages = await writeFailingReports(report, flags.html);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`cannot write HTML reports: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: flags.html });
    }
    process.stdout.write(`html: ${pages.length} report${pages.length === 1 ? '' : 's'} of failing goldens in ${flags.html}\n`);
  }
  if (flags.coverage === true) process.stdout.write(coverageText(await corpusCoverage(report.results.map((r) => r.job))));
  return report.exitCode;
}
