// Finds what `check` has to do under the given paths: every (trace, versions) pair a listing names,
// with its golden (present or missing), and every golden no listing accounts for (obsolete).
// Pure file-system reads; no replay here.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { ModelSelection } from '../replay/engine.js';
import {
  GOLDEN_EXT,
  LISTING_EXT,
  goldenPathFor,
  listingPathFor,
  parseGoldenPath,
  parseSelectionToken,
  selectionToken,
} from './naming.js';

export interface CheckJob {
  golden: string;
  trace: string;
  listing: string;
  selection: ModelSelection;
  /** Whether the golden file exists. */
  present: boolean;
}

export interface ObsoleteGolden {
  /** The golden, or a listing whose trace is gone. */
  path: string;
  reason: string;
}

export interface Corpus {
  jobs: CheckJob[];
  obsolete: ObsoleteGolden[];
}

interface Listing {
  path: string;
  dir: string;
  name: string;
  trace: string | null;
  selections: ModelSelection[];
}

/** The trace a listing refers to: NAME.pb, else NAME.txt, else null. */
function traceFor(dir: string, name: string): string | null {
  for (const ext of ['.pb', '.txt']) {
    const p = join(dir, name + ext);
    if (existsSync(p)) return p;
  }
  return null;
}

export function readListing(path: string): Listing {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read listing: ${(err as Error).message}`, { file: path });
  }
  const dir = dirname(path);
  const name = basename(path).slice(0, -LISTING_EXT.length);
  const selections: ModelSelection[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const token = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (token === '') return;
    const sel = parseSelectionToken(token);
    if (sel === null)
      throw new UserError(`expected KERNEL or KERNEL+VMM (e.g. linux-6.19+openvmm-3609), got "${token}"`, {
        file: path,
        line: i + 1,
        column: raw.indexOf(token) + 1,
      });
    const key = selectionToken(sel);
    if (seen.has(key)) throw new UserError(`"${key}" listed twice`, { file: path, line: i + 1, column: 1 });
    seen.add(key);
    selections.push(sel);
  });
  return { path, dir, name, trace: traceFor(dir, name), selections };
}

function walk(dir: string, out: { listings: string[]; goldens: string[] }): void {
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    if (ent.name.startsWith('.') || ent.name === 'node_modules') continue;
    const p = join(dir, ent.name);
    if (ent.isDirectory()) walk(p, out);
    else if (ent.name.endsWith(LISTING_EXT)) out.listings.push(p);
    else if (ent.name.endsWith(GOLDEN_EXT)) out.goldens.push(p);
  }
}

/** Goldens of trace NAME in `dir` (NAME@*.golden). */
function goldensOf(dir: string, name: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(GOLDEN_EXT) && f.startsWith(name + '@'))
    .map((f) => join(dir, f));
}

/**
 * Paths may be folders (searched recursively), listings, traces (.pb/.txt: their listing and
 * goldens) or single goldens. Default: `traces`.
 */
export function discoverCorpus(paths: string[]): Corpus {
  const listings = new Set<string>();
  const goldens = new Set<string>();
  /** Listings reached only through single golden arguments: check just those goldens. */
  const partial = new Map<string, Set<string>>();
  for (const arg of paths) {
    let st;
    try {
      st = statSync(arg);
    } catch {
      // A golden that was just deleted is still a valid argument only if it was obsolete; a
      // missing path otherwise is bad input.
      throw new UserError('no such file or folder', { file: arg });
    }
    if (st.isDirectory()) {
      const out = { listings: [] as string[], goldens: [] as string[] };
      walk(arg, out);
      out.listings.forEach((l) => listings.add(l));
      out.goldens.forEach((g) => goldens.add(g));
    } else if (arg.endsWith(LISTING_EXT)) {
      listings.add(arg);
      goldensOf(dirname(arg), basename(arg).slice(0, -LISTING_EXT.length)).forEach((g) => goldens.add(g));
    } else if (arg.endsWith(GOLDEN_EXT)) {
      const parsed = parseGoldenPath(arg);
      if (parsed === null) throw new UserError('not a golden name (expected NAME@KERNEL[+VMM].golden)', { file: arg });
      goldens.add(arg);
      const l = listingPathFor(parsed.dir, parsed.name);
      if (existsSync(l)) {
        const set = partial.get(l) ?? new Set<string>();
        set.add(resolve(arg));
        partial.set(l, set);
      }
    } else if (/\.(pb|txt)$/.test(arg)) {
      const dir = dirname(arg);
      const name = basename(arg).replace(/\.(pb|txt)$/, '');
      const l = listingPathFor(dir, name);
      if (!existsSync(l))
        throw new UserError(`trace is not listed for checking: create ${l} with one model version a line (e.g. linux-6.19)`, {
          file: arg,
        });
      listings.add(l);
      goldensOf(dir, name).forEach((g) => goldens.add(g));
    } else {
      throw new UserError('expected a folder, a trace (.pb/.txt), a listing (.versions) or a golden (.golden)', { file: arg });
    }
  }

  const walkedOrFull = new Set(listings);
  const jobs: CheckJob[] = [];
  const obsolete: ObsoleteGolden[] = [];
  const accounted = new Set<string>();
  for (const lp of partial.keys()) if (!listings.has(lp)) listings.add(lp);
  for (const lp of [...listings].sort()) {
    const l = readListing(lp);
    const only = walkedOrFull.has(lp) ? null : (partial.get(lp) ?? null);
    if (l.trace === null) {
      obsolete.push({ path: lp, reason: `its trace ${l.name}.pb is gone` });
      continue;
    }
    for (const sel of l.selections) {
      const golden = goldenPathFor(l.dir, l.name, sel);
      accounted.add(resolve(golden));
      if (only !== null && !only.has(resolve(golden))) continue;
      jobs.push({ golden, trace: l.trace, listing: lp, selection: sel, present: existsSync(golden) });
    }
  }
  for (const g of [...goldens].sort()) {
    if (accounted.has(resolve(g))) continue;
    const parsed = parseGoldenPath(g);
    const name = parsed?.name ?? basename(g);
    const dir = dirname(g);
    const reason =
      traceFor(dir, name) === null
        ? `its trace ${name}.pb is gone`
        : `${name}${LISTING_EXT} does not list ${parsed?.token ?? '?'}`;
    obsolete.push({ path: g, reason });
  }
  jobs.sort((a, b) => (a.golden < b.golden ? -1 : a.golden > b.golden ? 1 : 0));
  return { jobs, obsolete };
}
