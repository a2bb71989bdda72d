// Preloaded into a benchmarked CLI run (`node --import .../rss-hook.js dist/src/cli/main.js ...`):
// at exit it appends "<peak RSS KiB> <CPU seconds>" to the file named by BENCH_RSS_FILE. The CPU
// seconds are user + system of this process and of the children it has waited for (check's shard
// processes), so a parallel run's total CPU can be compared with a serial one's. The benchmark
// reads them instead of depending on GNU time being installed. Forked shard processes inherit
// this hook and append their own line first; the CLI process exits last, so its line is last.
import { appendFileSync, readFileSync } from 'node:fs';

/** utime+stime+cutime+cstime from /proc/self/stat (Linux), in seconds; null elsewhere. */
function cpuWithChildren(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): utime..cstime are fields 14-17, i.e. f[11..14], in clock ticks (100/s on Linux).
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return null;
  }
}

const target = process.env.BENCH_RSS_FILE;
if (target !== undefined && target !== '') {
  process.on('exit', () => {
    const u = process.resourceUsage();
    const cpu = cpuWithChildren() ?? (u.userCPUTime + u.systemCPUTime) / 1e6;
    appendFileSync(target, `${u.maxRSS} ${cpu.toFixed(2)}\n`);
  });
}
