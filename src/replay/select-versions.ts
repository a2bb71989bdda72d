// Which model versions a replay runs under. Flags win; otherwise the trace header decides: its
// kernel release maps to the nearest modeled release not newer than it, its VMM name + version to
// the nearest modeled version of that VMM. Every approximation is a warning (printed on stderr),
// never silent; a VMM without a version is refused when its models differ (vmm.version.required).

import { UserError, type Location } from '../errors.js';
import { findKernelVersion, KERNEL_RELEASES, KERNEL_VERSIONS, resolveKernelRelease } from '../model/versions/kernel.js';
import { findVmmVersion, VMM_VERSIONS } from '../model/versions/vmm.js';
import type { TraceHeader } from '../trace/types.js';
import type { ModelSelection } from './engine.js';

export interface VersionRequest {
  /** A kernel model version id (linux-6.19, barmap-at-enable@v3); undefined = from the header. */
  kernel?: string;
  /** A VMM model version id; null = kernel only; undefined = from the header. */
  vmm?: string | null;
}

export function kernelIds(): string[] {
  return KERNEL_VERSIONS.map((v) => v.id);
}

export function vmmIds(): string[] {
  return VMM_VERSIONS.map((v) => v.id);
}

/** Why a selection cannot be replayed by this model (an id it does not know), or null. */
export function unknownVersion(sel: ModelSelection): string | null {
  if (findKernelVersion(sel.kernel) === undefined) return `unknown kernel model version "${sel.kernel}"`;
  if (sel.vmm !== null && findVmmVersion(sel.vmm) === undefined) return `unknown VMM model version "${sel.vmm}"`;
  return null;
}

/** `file` is the trace the header came from: an error about what the header says names it. */
export function selectVersions(header: TraceHeader, req: VersionRequest, file?: string): { selection: ModelSelection; warnings: string[] } {
  const at = file === undefined ? {} : { file };
  const warnings: string[] = [];
  let kernel: string;
  if (req.kernel !== undefined) {
    if (findKernelVersion(req.kernel) === undefined)
      throw new UserError(`unknown kernel version "${req.kernel}" (known: ${kernelIds().join(', ')})`);
    kernel = req.kernel;
  } else {
    kernel = kernelFromRelease(header.kernelRelease, warnings, at);
  }
  let vmm: string | null;
  if (req.vmm !== undefined) {
    if (req.vmm !== null && findVmmVersion(req.vmm) === undefined)
      throw new UserError(`unknown VMM version "${req.vmm}" (known: ${vmmIds().join(', ')}, or none)`);
    vmm = req.vmm;
  } else {
    vmm = vmmFromHeader(header.vmm.name, header.vmm.version, warnings, at);
  }
  return { selection: { kernel, vmm }, warnings };
}

function kernelFromRelease(release: string, warnings: string[], at: Location): string {
  if (release.trim() === '')
    throw new UserError(`the trace header names no kernel release: pass --kernel (one of ${kernelIds().join(', ')})`, at);
  const r = resolveKernelRelease(release);
  if (r !== undefined) {
    if (r.warning !== undefined) warnings.push(r.warning);
    return r.id;
  }
  if (/^(?:linux-)?\d+\.\d+/.test(release.trim())) {
    const oldest = KERNEL_RELEASES[0];
    warnings.push(`kernel ${release} is older than every modeled release; using ${oldest}, the nearest`);
    return oldest;
  }
  throw new UserError(`the trace header's kernel release "${release}" is not a Linux release: pass --kernel`, at);
}

/** Numeric key of a version string: "10.0.3" -> [10,0,3]; "#3609" / "3609" -> [3609]. */
function versionKey(s: string): number[] | null {
  const m = /(\d+(?:\.\d+)*)/.exec(s);
  return m === null ? null : m[1].split('.').map(Number);
}

function cmpKey(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function vmmFromHeader(name: string, version: string, warnings: string[], at: Location): string | null {
  const family = name.trim().toLowerCase();
  if (family === '' || family === '-') return null;
  const candidates = VMM_VERSIONS.filter((v) => v.family === family);
  if (candidates.length === 0) {
    warnings.push(`VMM "${name}" is not modeled; replaying host events only (guest events are unsupported; pass --vmm)`);
    return null;
  }
  if (candidates.length === 1) {
    const only = candidates[0].id;
    if (version !== '' && version !== '-' && only !== `${family}-${version}`)
      warnings.push(`${name} ${version} is modeled by ${only}, the only ${family} model`);
    return only;
  }
  const want = versionKey(version);
  const keyed = candidates
    .map((v) => ({ id: v.id, key: versionKey(v.id.slice(family.length + 1)) }))
    .filter((c): c is { id: string; key: number[] } => c.key !== null)
    .sort((a, b) => cmpKey(a.key, b.key));
  if (want === null) {
    // Guessing here decides the verdict (QEMU 7.2 dies where 10.0 reads 0 after D3hot): refuse,
    // and say how to name the version instead of picking the newest model.
    const ids = keyed.map((c) => c.id).join(', ');
    const what = version.trim() === '' || version.trim() === '-' ? 'names no version' : `names version "${version}", which is not a number`;
    throw new UserError(
      `the trace header ${what} for ${name}, and the ${family} models differ (${ids}): pass --vmm ID, or re-import with --vmm-version`,
      at,
    );
  }
  let best = keyed[0];
  for (const c of keyed) if (cmpKey(c.key, want) <= 0) best = c;
  // "7.2.15" is the 7.2 line: a modeled key that is a prefix of the version is exact.
  const exact = best.key.every((n, i) => want[i] === n);
  if (!exact) {
    const older = cmpKey(best.key, want) > 0;
    warnings.push(
      `${name} ${version} is not modeled exactly; using ${best.id}, ` +
        (older ? `the oldest modeled ${family} (the trace's version is older than every model)` : 'the nearest modeled version not newer than it'),
    );
  }
  return best.id;
}
