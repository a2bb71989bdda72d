// Every modeled version, as data: kernel releases and patch-series versions (versions/kernel.ts)
// and VMM versions (versions/vmm.ts). Import from here.
export * from './versions/kernel.js';
export * from './versions/vmm.js';
export * from './versions/kernel-bugs.js';
