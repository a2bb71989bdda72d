// The TypeScript side of the real-kernel lab, as lab/run.mjs uses it: trace -> op script,
// console -> results, results -> trace with observed outcomes.
export { toOpScript, opLine, type OpScript } from './op-script.js';
export { parseConsole, parseResultLine, type LabConsole, type RunResult, type ScenarioRun } from './serial.js';
export { snapshotFromConsole, type LabSnapshot } from './snapshot.js';
export { applyResults, observedFrom, labHeader, type Applied, type LabHeaderInfo } from './apply.js';
export { normalizeStrace } from './strace-normalize.js';
export { LAB_DEVICES, findLabDevice, labDeviceById, type LabDevice, type DeviceRegister } from './devices.js';
export { generateSequence, generateEvents, asTraceEvents, sequenceName, type SequenceSpec } from './random/generate.js';
export { profileOf, type RandomProfile } from './random/profile.js';
export { disagreements, signature, type Disagreement } from './random/differential.js';
export { ddmin, type BatchTest, type DdminResult } from './random/ddmin.js';
export { parseShard, shardIndices, mergeResults, type ShardResult, type SequenceResult, type CampaignSummary } from './random/campaign.js';
export { deviceScenarios, DEVICE_SCENARIOS } from './device-scenarios.js';
export { deviceTraits, traitsLine, headerTraits, withTraits, type LabDeviceTraits } from './traits.js';
export { labRomImage } from './rom-image.js';
