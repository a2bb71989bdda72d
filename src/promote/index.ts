// `promote`: a capture (or a trace) becomes a regression test in the corpus. Imports when given a
// capture directory, optionally minimizes, then writes NAME.pb, its text twin NAME.txt, the listing
// NAME.versions (own versions + one per differing behavior, see versions.ts), one golden per listed
// version, and a README stub that cites where the trace came from. Refuses to overwrite a trace of
// the same name; every file is written atomically, goldens last (they are rendered from NAME.pb).

import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../golden/atomic.js';
import { renderGolden } from '../golden/generate.js';
import { goldenPathFor, listingPathFor, selectionToken } from '../golden/naming.js';
import { importTrace, type ImportInputs } from '../import/importer.js';
import { describeGoal, minimizeTrace, type Goal } from '../minimize/index.js';
import { selectVersions } from '../replay/select-versions.js';
import { encodeTrace, loadTrace, printText } from '../trace/index.js';
import type { Trace } from '../trace/types.js';
import { versionsThatDiffer, type ListedVersion } from './versions.js';

export interface PromoteRequest {
  source: string;
  folder: string;
  name: string;
  minimize?: Goal;
  /** Replace an existing trace of the same name. */
  force?: boolean;
  tracerVersion: string;
  /** For a capture folder: what the import cannot read from it (VMM name/version, accelerator, title). */
  importOptions?: Pick<ImportInputs, 'vmm' | 'vmmVersion' | 'accel' | 'title'>;
  warn: (w: string) => void;
}

export interface PromoteResult {
  imported: boolean;
  before: number;
  events: number;
  listed: ListedVersion[];
  written: string[];
}

async function load(source: string, tracerVersion: string, opts: PromoteRequest['importOptions']): Promise<{ trace: Trace; imported: boolean }> {
  let dir = false;
  try {
    dir = statSync(source).isDirectory();
  } catch {
    throw new UserError('no such file or capture folder', { file: source });
  }
  if (!dir) return { trace: await loadTrace(source), imported: false };
  return { trace: importTrace({ ...opts, dir: source, tracerVersion }).trace, imported: true };
}

function readmeStub(req: PromoteRequest, trace: Trace, imported: boolean, before: number, listed: ListedVersion[]): string {
  const h = trace.header;
  const lines = [
    `## ${req.name}`,
    '',
    h.title.replace(/^minimized(: )?/, '') || 'TODO: a title (the capture had none: `promote --title`).',
    '',
    `Promoted by \`vfio-replay promote\` from \`${req.source}\` (${imported ? 'a capture folder, imported' : 'a trace'}; ` +
      `source ${h.source}, kernel ${h.kernelRelease || 'unknown'}, VMM ${h.vmm.name || 'none'} ${h.vmm.version}`.trimEnd() +
      `, ${h.tracerVersion || 'tracer unknown'}).`,
    req.minimize === undefined
      ? `All ${before} events kept.`
      : `Minimized from ${before} to ${trace.events.length} events keeping ${describeGoal(req.minimize)}.`,
    '',
    `Goldens: \`${req.name}@<versions>.golden\` for each line of \`${req.name}.versions\`:`,
    ...listed.map((l) => `- \`${selectionToken(l.selection)}\`: ${l.why}`),
    '',
    'TODO: what the trace shows and why it matters (the report, the fix, the mail thread).',
    '',
  ];
  return lines.join('\n');
}

export async function promote(req: PromoteRequest): Promise<PromoteResult> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(req.name))
    throw new UserError(`--name wants letters, digits, ".", "_" or "-" (no "@", no "/"), got "${req.name}"`);
  const pb = join(req.folder, `${req.name}.pb`);
  const txt = join(req.folder, `${req.name}.txt`);
  const listing = listingPathFor(req.folder, req.name);
  if (req.force !== true)
    for (const p of [pb, txt, listing]) if (existsSync(p)) throw new UserError('already exists (pass --force to replace it)', { file: p });
  if (existsSync(req.folder) && !statSync(req.folder).isDirectory()) throw new UserError('--to is not a folder', { file: req.folder });
  const { trace: loaded, imported } = await load(req.source, req.tracerVersion, req.importOptions);
  const { selection: own, warnings } = selectVersions(loaded.header, {});
  warnings.forEach(req.warn);
  const trace = req.minimize === undefined ? loaded : minimizeTrace(loaded, req.source, req.minimize, [own]).trace;
  const listed = versionsThatDiffer(trace, own);

  mkdirSync(req.folder, { recursive: true });
  const written: string[] = [];
  const put = (path: string, body: string | Uint8Array): void => {
    writeFileAtomic(path, body);
    written.push(path);
  };
  put(pb, encodeTrace(trace));
  put(txt, printText(trace));
  put(
    listing,
    `# ${req.name}: promoted from ${req.source}. The trace's own versions first, then one per other behavior.\n` +
      listed.map((l) => `${selectionToken(l.selection)}  # ${l.why}`).join('\n') +
      '\n',
  );
  const readme = join(req.folder, 'README.md');
  const stub = readmeStub(req, trace, imported, loaded.events.length, listed);
  put(readme, existsSync(readme) ? `${readFileSync(readme, 'utf8').trimEnd()}\n\n${stub}` : `# ${req.folder}\n\n${stub}`);
  for (const l of listed) {
    const golden = goldenPathFor(req.folder, req.name, l.selection);
    put(golden, (await renderGolden(pb, golden, l.selection)).text);
  }
  return { imported, before: loaded.events.length, events: trace.events.length, listed, written };
}
