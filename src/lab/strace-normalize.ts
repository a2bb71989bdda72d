// Makes the lab's strace capture the same on every run, apart from timestamps. Two things vary
// from run to run and are not device operations, so they are normalized:
// - the runner's low-power settling (lab/runner/runner.c lp_settle): how many times it polled
//   sysfs runtime_status (pread64 on that fd), read the wakeup eventfd and slept
//   (clock_nanosleep) depends on timing; those lines are dropped (the runner does nothing else
//   with those calls; the one openat of runtime_status stays);
// - the 8 random bytes static glibc asks getrandom() for at startup; they become zeros.
// Everything else (pids are fixed in the guest, addresses are fixed by norandmaps and
// MAP_FIXED_NOREPLACE) is left as strace printed it.

/** strace -xx prints every string byte as \xNN; decode those to test what a path is. */
function decodeHexEscapes(s: string): string {
  return s.replace(/\\x([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function isSettleLine(line: string): boolean {
  if (/^\d+\s+\S+\s+clock_nanosleep\(/.test(line)) return true;
  const m = /^\d+\s+\S+\s+(pread64|read)\(\d+<([^>]*)>/.exec(line);
  if (m === null) return false;
  const path = decodeHexEscapes(m[2]);
  return m[1] === 'pread64' ? path.endsWith('/power/runtime_status') : path === 'anon_inode:[eventfd]';
}

export function normalizeStrace(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (isSettleLine(line)) continue;
    out.push(
      line.replace(/(getrandom\(")((?:\\x[0-9a-f]{2})+)(")/, (_m, a: string, bytes: string, b: string) => a + '\\x00'.repeat(bytes.length / 4) + b),
    );
  }
  return out.join('\n');
}
