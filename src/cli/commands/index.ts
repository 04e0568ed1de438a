/** Every CLI command, in the order `posguard --help` lists them. */
import type { Command } from 'commander';
import { registerBacktest } from './backtest.js';
import { registerCase } from './case.js';
import { registerDemo } from './demo.js';
import { registerEval } from './eval.js';
import { registerLabel } from './label.js';
import { registerMigrate } from './migrate.js';
import { registerReplay } from './replay.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { registerSimulate } from './simulate.js';
import { registerSql } from './sql.js';
import { registerSuppress } from './suppress.js';
import { registerTopics } from './topics.js';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [registerDemo, registerReplay, registerSimulate, registerRun, registerTopics, registerEval, registerMigrate, registerSql, registerReport, registerCase, registerLabel, registerSuppress, registerBacktest];
