/**
 * Builds the whole single-process detector: stage 1 (the linking engine),
 * stage 2 (card patterns) called directly with stage 1's ordered card facts,
 * and terminal fault spikes. docs/architecture.md shows how the same stages
 * split across instances.
 */
import type { Rules } from '../config/rules.js';
import { CardPatterns } from '../detect/patterns/card-patterns.js';
import { TerminalFaultSpikes } from '../detect/patterns/fault-spike.js';
import { Engine, type EngineOutput } from '../engine/engine.js';

export interface Pipeline {
  readonly engine: Engine;
  readonly cardPatterns: CardPatterns;
  readonly faultSpikes: TerminalFaultSpikes;
}

export function createPipeline(rules: () => Rules, output: EngineOutput): Pipeline {
  const emit = (a: Parameters<EngineOutput['anomaly']>[0]) => output.anomaly(a);
  const cardPatterns = new CardPatterns(rules, emit);
  const faultSpikes = new TerminalFaultSpikes(rules, emit);
  const engine = new Engine({ rules, output, cardPatterns, faultSpikes });
  return { engine, cardPatterns, faultSpikes };
}
