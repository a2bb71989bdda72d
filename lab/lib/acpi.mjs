// ACPI tables the lab adds to QEMU's own (-acpitable): compiled from lab/acpi/*.asl with iasl
// (Debian's acpica-tools) into the worktree's lab/work, so a changed .asl is rebuilt on the next run.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './sh.mjs';

/** Compiles lab/acpi/NAME.asl to WORK/acpi/NAME.aml; returns the .aml path. */
export function buildAcpiTable(labDir, workDir, name) {
  const out = join(workDir, 'acpi');
  mkdirSync(out, { recursive: true });
  run('iasl', ['-p', join(out, name), join(labDir, 'acpi', `${name}.asl`)]);
  return join(out, `${name}.aml`);
}
