// Entry point of the VMM models: pick the family's model for a VMM version id.

import type { KernelModel, VmmModel } from '../interfaces.js';
import type { Accelerator, DeviceSnapshot } from '../../trace/types.js';
import { UserError } from '../../errors.js';
import { findVmmVersion, vmmVersionIds } from '../versions/vmm.js';
import { QemuModel } from './qemu.js';
import { OpenVmmModel } from './openvmm.js';
import { CloudHypervisorModel } from './cloud-hypervisor.js';

export { VMM_VERSIONS, VMM_ORDER, findVmmVersion, vmmVersionIds } from '../versions/vmm.js';
export { discoverCapabilities } from './openvmm-caps.js';

/**
 * The VMM model for `versionId`, driving `kernel`. An unknown id is bad user input (`--vmm`).
 * `options` are the VMM's device options from the trace header (header.vmm.options).
 */
export function createVmmModel(kernel: KernelModel, device: DeviceSnapshot, versionId: string, accel: Accelerator, options: readonly string[] = []): VmmModel {
  const v = findVmmVersion(versionId);
  if (!v) throw new UserError(`unknown VMM version "${versionId}" (known: ${vmmVersionIds().join(', ')})`);
  switch (v.family) {
    case 'qemu':
      return new QemuModel(kernel, device, v, accel, options);
    case 'openvmm':
      return new OpenVmmModel(kernel, device, v, accel, options);
    case 'cloud-hypervisor':
      return new CloudHypervisorModel(kernel, device, v, accel, options);
  }
}
