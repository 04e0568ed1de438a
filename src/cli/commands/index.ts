/** Every CLI command, in the order `posguard --help` lists them. */
import type { Command } from 'commander';
import { registerDemo } from './demo.js';
import { registerEval } from './eval.js';
import { registerReplay } from './replay.js';
import { registerSimulate } from './simulate.js';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [registerDemo, registerReplay, registerSimulate, registerEval];
