// One guest boot that runs a batch of op scripts against one device, for the modes that run many
// generated scripts (the random campaign, its shrinking, the device trait probe). Returns the
// parsed console; the caller maps results back onto its traces.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildInitramfs } from './initramfs.mjs';
import { bootGuest, topologyArgs } from './qemu.mjs';
import { log } from './sh.mjs';

const hex4 = (v) => '0x' + v.toString(16).padStart(4, '0');

/**
 * items: [{ name, text }] op scripts; device: a LabDevice (src/lab/devices.ts); single: run each
 * script once (no second run under the tracer). Retries a guest that never reached /init.
 */
// `qemu`: the outer QEMU to boot with (qemu10.mjs, for devices the host's QEMU lacks); the
// device's own topology (e.g. the igb behind a root port) unless `topology` is given; an SR-IOV
// VF (`device.pf`) has its PF created by QEMU and the VF by init.sh, as in run.mjs.
export function runBatch({ lab, labDir, kernel, work, tag, runner, device, topology = device.topology ?? 'root', items, single = true, timeoutSec = 1800, qemu }) {
  let init = readFileSync(join(labDir, 'guest/init.sh'), 'utf8');
  if (single) init = init.replace(/^  bash \/lab\/vfio-trace /m, '  true ');
  const img = buildInitramfs({
    out: join(work, `initrd-${tag}.gz`),
    init,
    modules: kernel.modules,
    binaries: single ? [] : ['/usr/bin/strace', '/bin/bash'],
    files: [
      { dest: '/lab/runner', src: runner, mode: 0o755 },
      { dest: '/lab/device', text: `${hex4(device.vendor)} ${hex4(device.device)}\n` },
      ...(device.pf ? [{ dest: '/lab/pf', text: `${hex4(device.pf.vendor)} ${hex4(device.pf.device)}\n` }] : []),
      ...(single ? [{ dest: '/lab/single', text: '1\n' }] : []),
      ...items.map((x) => ({ dest: `/lab/scen/${x.name}.ops`, text: x.text })),
    ],
  });
  let boot;
  for (let attempt = 1; ; attempt++) {
    const qemuDevice = device.pf ? { ...device, name: device.pf.name } : device;
    boot = bootGuest({ vmlinuz: kernel.vmlinuz, initrd: img.out, timeoutSec, devices: topologyArgs(topology, qemuDevice), qemu });
    if (boot.serial.includes('@@LAB begin') || attempt === 3) break;
    log(`${tag}: the guest did not reach /init (attempt ${attempt}); booting again`);
  }
  writeFileSync(join(work, `console-${tag}.log`), boot.serial);
  const con = lab.parseConsole(boot.serial);
  if (boot.timedOut) log(`${tag}: QEMU hit the ${timeoutSec}s limit; results are partial`);
  if (con.failures.length) log(`${tag}: guest reported: ${con.failures.join('; ')}`);
  return { con, boot };
}
