// Every subcommand registers itself here: one import and one entry per command file.
import type { Command } from 'commander';
import { register as replay } from './replay.js';
import { register as check } from './check.js';
import { register as bisect } from './bisect.js';
import { register as dump } from './dump.js';
import { register as encode } from './encode.js';
import { register as info } from './info.js';
import { register as versions } from './versions.js';
import { register as importCmd } from './import.js';
import { register as minimize } from './minimize.js';
import { register as matrix } from './matrix.js';
import { register as promote } from './promote.js';
import { register as report } from './report.js';
import { register as junitMerge } from './junit-merge.js';
import { register as exportCmd } from './export.js';

export type CommandRegistrar = (program: Command) => void;

export const commands: CommandRegistrar[] = [
  replay,
  check,
  bisect,
  dump,
  encode,
  info,
  versions,
  importCmd,
  minimize,
  matrix,
  promote,
  report,
  junitMerge,
  exportCmd,
];
