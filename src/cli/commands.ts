// Every subcommand registers itself here: one import and one entry per command file.
import type { Command } from 'commander';

export type CommandRegistrar = (program: Command) => void;

export const commands: CommandRegistrar[] = [
];
