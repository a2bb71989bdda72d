// `vfio-replay import DIR -o t.pb`: a vfio-trace output directory (strace log, sysfs snapshot,
// QEMU trace log) -> a binary trace. Explicit inputs (--strace, --sysfs, --qemu-log) replace or
// stand in for the directory's files. The output appears only when every input parsed.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { importTraceStream, renderReport } from '../import/importer.js';
import { loadTrace } from '../trace/codec.js';
import type { Accelerator } from '../trace/types.js';
import { TraceWriter } from '../trace/writer.js';

interface ImportFlags {
  output: string;
  strace?: string;
  ioctlArgs?: string;
  sysfs?: string;
  qemuLog?: string;
  headerFrom?: string;
  vmm?: string;
  vmmVersion?: string;
  accel?: string;
  title?: string;
  guestBdf?: string;
  vmmLog?: string;
  lspci?: string;
  dmesg?: string;
  vmmCmdline?: string;
  kernelRelease?: string;
  bdf?: string;
  allowEmpty?: boolean;
  quiet?: boolean;
}

export const ACCELS: Accelerator[] = ['unknown', 'kvm', 'tcg', 'mshv'];

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function register(program: Command): void {
  program
    .command('import')
    .description('turn a capture (a vfio-trace directory, or what a bug report attaches: strace, QEMU/libvirt logs, lspci, dmesg) into a binary trace')
    .argument('[inputs...]', 'vfio-trace directory, sysfs device directory, or files of any kind (told apart by content)')
    .requiredOption('-o, --output <file>', 'binary trace to write (replaced atomically; nothing is written on error)')
    .option('--strace <log>', 'strace log (strace -f -tt -y -xx -s 4096 ... -o LOG)')
    .option('--ioctl-args <file>', "the tracer's VFIO ioctl argument capture (ioctl-args), for --strace")
    .option('--sysfs <dir>', 'device snapshot: a vfio-trace directory or a sysfs device directory')
    .option('--qemu-log <log>', "QEMU's log-backend trace (-trace 'vfio_*' -trace 'pci_*' -D LOG -msg timestamp=on)")
    .option('--header-from <trace>', 'take the header (device snapshot, kernel, VMM) from this trace (.pb or .txt)')
    .option('--vmm <name>', 'VMM name for the header (qemu, openvmm, cloud-hypervisor)')
    .option('--vmm-version <version>', 'VMM version for the header (e.g. 10.0.3)')
    .option('--accel <accel>', `accelerator for the header: ${ACCELS.join(', ')}`)
    .option('--title <text>', 'one-line description for the header (the bug report title)')
    .option('--guest-bdf <bb:ss.f>', 'guest BDF of the assigned device in pci_* QEMU events (default: the first vfio-pci one)')
    .option('--vmm-log <log>', "libvirt's per-domain log or QEMU's stderr (version, command line, kvm run failed)")
    .option('--lspci <file>', 'lspci -vvv -xxxx -s BDF output: the device snapshot when there is no sysfs copy')
    .option('--dmesg <file>', "dmesg / journalctl -k output: the kernel's lines about the device")
    .option('--vmm-cmdline <line>', "the VMM's command line (its -device vfio-pci options: x-no-mmap, rombar, ...)")
    .option('--kernel-release <release>', 'uname -r of the host, when no input says it')
    .option('--bdf <bdf>', 'host BDF of the assigned device, when the inputs do not say it or name several')
    .option('--allow-empty', 'write the trace even when it holds no device event (otherwise exit 2 saying what was looked for)')
    .option('-q, --quiet', 'do not print the import summary')
    .addHelpText(
      'after',
      '\nExamples:\n  npx vfio-replay import ./vfio-trace-out -o bug.pb\n  npx vfio-replay import qemu.strace qemu-trace.log libvirt.log lspci.txt dmesg.txt -o bug.pb\n  npx vfio-replay import --strace vmm.strace --sysfs ./vfio-trace-out --qemu-log qemu.log -o bug.pb',
    )
    .action(async (inputs: string[], flags: ImportFlags) => {
      if (flags.accel !== undefined && !ACCELS.includes(flags.accel as Accelerator))
        throw new UserError(`--accel must be one of ${ACCELS.join(', ')}, not "${flags.accel}"`);
      const header = flags.headerFrom !== undefined ? (await loadTrace(flags.headerFrom)).header : undefined;
      const { imported, report } = importTraceStream({
        ...(inputs.length > 0 ? { files: inputs } : {}),
        ...(flags.strace !== undefined ? { strace: flags.strace } : {}),
        ...(flags.ioctlArgs !== undefined ? { ioctlArgs: flags.ioctlArgs } : {}),
        ...(flags.sysfs !== undefined ? { sysfs: flags.sysfs } : {}),
        ...(flags.qemuLog !== undefined ? { qemuLog: flags.qemuLog } : {}),
        ...(header !== undefined ? { header } : {}),
        ...(flags.vmm !== undefined ? { vmm: flags.vmm } : {}),
        ...(flags.vmmVersion !== undefined ? { vmmVersion: flags.vmmVersion } : {}),
        ...(flags.accel !== undefined ? { accel: flags.accel as Accelerator } : {}),
        ...(flags.title !== undefined ? { title: flags.title } : {}),
        ...(flags.guestBdf !== undefined ? { guestBdf: flags.guestBdf } : {}),
        ...(flags.vmmLog !== undefined ? { vmmLog: flags.vmmLog } : {}),
        ...(flags.lspci !== undefined ? { lspci: flags.lspci } : {}),
        ...(flags.dmesg !== undefined ? { kernelLog: flags.dmesg } : {}),
        ...(flags.vmmCmdline !== undefined ? { vmmCmdline: flags.vmmCmdline } : {}),
        ...(flags.kernelRelease !== undefined ? { kernelRelease: flags.kernelRelease } : {}),
        ...(flags.bdf !== undefined ? { bdf: flags.bdf } : {}),
        ...(flags.allowEmpty ? { allowEmpty: true } : {}),
        tracerVersion: `vfio-replay import ${packageVersion()}`,
      });
      const writer = await TraceWriter.create(flags.output);
      try {
        // Each event is numbered as it is written: the trace is never held a second time.
        await writer.header(imported.header);
        for (const e of imported.events()) await writer.event(e);
        await writer.close();
      } catch (err) {
        await writer.abort();
        throw err;
      }
      if (!flags.quiet) process.stderr.write(`${renderReport(imported, report)}\nwrote ${flags.output}\n`);
    });
}
