// The TypeScript side of the real-kernel lab, as lab/run.mjs uses it: trace -> op script,
// console -> results, results -> trace with observed outcomes.
export { toOpScript, opLine, type OpScript } from './op-script.js';
export { parseConsole, parseResultLine, type LabConsole, type RunResult, type ScenarioRun } from './serial.js';
export { snapshotFromConsole, type LabSnapshot } from './snapshot.js';
export { applyResults, observedFrom, labHeader, type Applied, type LabHeaderInfo } from './apply.js';
export { normalizeStrace } from './strace-normalize.js';
