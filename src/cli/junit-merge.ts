// `vfio-replay junit-merge -o junit.xml junit-1.xml junit-2.xml ...`: one JUnit report from the
// reports of a sharded `check` (docs/ci.md). Exit 0 merged, 2 bad input (a report that is not
// JUnit XML, or two reports holding the same golden). The merged file is written atomically.

import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../golden/atomic.js';
import { mergeJunit } from '../junit/merge.js';

export function register(program: Command): void {
  program
    .command('junit-merge')
    .description('merge the JUnit reports of sharded `check --shard i/n --junit FILE` runs into one')
    .argument('<reports...>', 'JUnit XML files, one per shard')
    .requiredOption('-o, --output <file>', 'where to write the merged report')
    .addHelpText(
      'after',
      [
        '',
        'Exit status: 0 merged, 2 bad input (not JUnit XML, or the same golden in two reports: overlapping shards).',
        'Example:',
        '  npx vfio-replay junit-merge -o junit.xml junit-*.xml',
      ].join('\n'),
    )
    .action((reports: string[], flags: { output: string }) => {
      const inputs = reports.map((file) => {
        try {
          return { file, text: readFileSync(file, 'utf8') };
        } catch (err) {
          throw new UserError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file });
        }
      });
      const merged = mergeJunit(inputs);
      try {
        writeFileAtomic(flags.output, merged.xml);
      } catch (err) {
        throw new UserError(`cannot write the merged report: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: flags.output });
      }
      const t = merged.totals;
      process.stdout.write(
        `junit-merge: ${reports.length} reports, ${t.tests} tests, ${t.failures} failures, ${t.errors} errors, ${t.skipped} skipped -> ${flags.output}\n`,
      );
    });
}
