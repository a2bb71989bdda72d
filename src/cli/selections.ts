// The model selections a triage command runs under: `--versions K+V,K2+V2` (several), or
// `--kernel`/`--vmm` (one; each defaults to what the trace header says, with warnings).

import { UserError } from '../errors.js';
import { parseSelectionToken } from '../golden/naming.js';
import type { ModelSelection } from '../replay/engine.js';
import { selectVersions, unknownVersion } from '../replay/select-versions.js';
import type { TraceHeader } from '../trace/types.js';

export interface SelectionFlags {
  kernel?: string;
  vmm?: string;
  versions?: string;
}

export function selectionsFor(header: TraceHeader, flags: SelectionFlags, warn: (w: string) => void, file?: string): ModelSelection[] {
  if (flags.versions !== undefined) {
    if (flags.kernel !== undefined || flags.vmm !== undefined) throw new UserError('--versions names both models: leave out --kernel/--vmm');
    const out: ModelSelection[] = [];
    for (const token of flags.versions.split(',')) {
      const sel = parseSelectionToken(token);
      if (sel === null) throw new UserError(`--versions: expected KERNEL or KERNEL+VMM (e.g. linux-6.19+openvmm-3609), got "${token}"`);
      const unknown = unknownVersion(sel);
      if (unknown !== null) throw new UserError(`--versions: ${unknown}`);
      out.push(sel);
    }
    return out;
  }
  const vmm = flags.vmm === undefined ? undefined : flags.vmm === 'none' ? null : flags.vmm;
  const { selection, warnings } = selectVersions(header, { kernel: flags.kernel, vmm }, file);
  warnings.forEach(warn);
  return [selection];
}
