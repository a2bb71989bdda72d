// The library behind the `vfio-replay` command, for tools that embed it (a CI gate of their own,
// a bisect driver, an importer for another tracer). The CLI is a thin layer over exactly these.
export * from './trace/index.js';
export * from './model/outcome.js';
export type { KernelModel, KernelView, VmmModel } from './model/interfaces.js';
export { createKernelModel } from './model/kernel/index.js';
export { createVmmModel, discoverCapabilities } from './model/vmm/index.js';
export * from './model/versions.js';
export { e1000eSnapshot } from './model/devices/e1000e.js';
export { Replayer, type ModelSelection } from './replay/engine.js';
export { replayFile, type ReplayOptions, type ReplaySummary, type Divergence } from './replay/run.js';
export { compareObserved } from './replay/compare.js';
export { runCheck, type CheckOptions, type CheckReport } from './golden/check.js';
export { bisectTrace, bisect, bisectReplayCounts, reportJson, reportText, type BisectRequest, type BisectReport } from './bisect/index.js';
export { importTrace, type ImportInputs, type ImportReport } from './import/index.js';
export { UserError, type Location } from './errors.js';
