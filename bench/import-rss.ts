// The import rows of `npm run bench` (issue 19 item 3: importers stream their inputs): peak RSS of
// `vfio-replay import` (CLI child process) on a small and a big tracer directory made from a real
// capture by repetition (import-inputs.ts), and the ratio. Like the replay row, the target is
// bounded memory: the big import within 2x of the small one.
import { IMPORT_INPUT_KINDS, importInput, type ImportInput, type ImportInputKind } from './import-inputs.js';

export interface ImportRssRun {
  seconds: number;
  rssKiB: number;
  status: number;
  stderr: string;
}

export interface ImportRow {
  what: string;
  value: string;
  target: string;
  verdict: string;
}

const mib = (bytes: number): string => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`);

const DESCRIBED: Record<ImportInputKind, { input: string; source: string }> = {
  tracer: { input: 'strace + QEMU log + ioctl-args', source: 'traces/qemu/10.0/bar-move' },
  ff: { input: 'strace -ff files + QEMU log + ioctl-args', source: 'traces/qemu/10.0/bar-move as -ff' },
  unstamped: { input: 'strace + QEMU log without a shared clock + lspci', source: 'traces/qemu-plain/10.0/bar-move' },
};

/**
 * `run(args)` runs the built CLI with the bench's RSS hook. The inputs are cached in `cache`
 * (writing the big one takes minutes: its generation time is in the notes when it was written).
 * One row per kind of input (import-inputs.ts), all by default.
 */
export async function importRows(
  repo: string,
  cache: string,
  sizes: { small: number; big: number },
  work: string,
  run: (args: string[]) => ImportRssRun,
  progress: (s: string) => void,
  kinds: readonly ImportInputKind[] = IMPORT_INPUT_KINDS,
): Promise<{ rows: ImportRow[]; notes: string[] }> {
  const notes: string[] = [];
  const rows: ImportRow[] = [];
  for (const kind of kinds) {
    const d = DESCRIBED[kind];
    const inputs: ImportInput[] = [];
    for (const size of [sizes.small, sizes.big]) {
      progress(`import input of ${mib(size)} (${d.input}) in ${cache}`);
      const i = await importInput(repo, cache, size, kind);
      if (i.generatedS > 0) notes.push(`import input ${mib(i.bytes)} (${i.repetitions} runs of ${d.source}) generated in ${i.generatedS.toFixed(1)} s`);
      inputs.push(i);
    }
    const runs = inputs.map((i, n) => {
      progress(`importing ${mib(i.bytes)} (${kind}) for its peak RSS`);
      const r = run(['import', ...i.args, '-o', `${work}/import-${kind}-${n}.pb`, '--vmm-version', '10.0.13', '--quiet']);
      if (r.status !== 0) throw new Error(`bench: import of ${i.dir} exited ${r.status}: ${r.stderr.trim().split('\n')[0]}`);
      return r;
    });
    const [small, big] = [runs[0]!, runs[1]!];
    const ratio = big.rssKiB / small.rssKiB;
    const rate = (i: ImportInput, r: ImportRssRun): string => `${(i.bytes / 2 ** 20 / r.seconds).toFixed(1)} MiB/s`;
    rows.push({
      what: `peak RSS, CLI import of ${mib(inputs[0]!.bytes)} vs ${mib(inputs[1]!.bytes)} (${d.input})`,
      value: `${(small.rssKiB / 1024).toFixed(0)} MiB vs ${(big.rssKiB / 1024).toFixed(0)} MiB (${ratio.toFixed(2)}x); ${small.seconds.toFixed(1)} s (${rate(inputs[0]!, small)}) vs ${big.seconds.toFixed(0)} s (${rate(inputs[1]!, big)})`,
      target: '<= 2x',
      verdict: ratio <= 2 ? 'met' : 'MISSED',
    });
  }
  return { rows, notes };
}
