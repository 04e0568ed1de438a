/**
 * Builds the whole single-process detector: stage 1 (the linking engine) and
 * stage 2 (card patterns) called directly, plus terminal fault spikes.
 */
import type { Rules } from '../config/rules.js';
import { Engine, type EngineOutput } from './engine.js';

export interface Pipeline {
  engine: Engine;
}

export function createPipeline(rules: () => Rules, output: EngineOutput): Pipeline {
  const engine = new Engine({ rules, output });
  return { engine };
}
