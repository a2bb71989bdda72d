// Preloaded into a benchmarked CLI run (`node --import .../rss-hook.js dist/src/cli/main.js ...`):
// at exit it appends the process's peak RSS in KiB to the file named by BENCH_RSS_FILE. The
// benchmark reads it instead of depending on GNU time being installed.
import { appendFileSync } from 'node:fs';

const target = process.env.BENCH_RSS_FILE;
if (target !== undefined && target !== '') {
  process.on('exit', () => {
    appendFileSync(target, `${process.resourceUsage().maxRSS}\n`);
  });
}
