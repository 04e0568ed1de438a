/** The fraud-like pattern detectors (docs/semantics.md, "Fraud-like patterns"). */
export * from './types.js';
export { CardPatterns, type CardPatternCounters } from './card-patterns.js';
export { CardTesting, TestingWindow } from './card-testing.js';
export { CardVelocity, VelocityWindow } from './card-velocity.js';
export { ImpossibleTravel, TravelWindow } from './impossible-travel.js';
export { TerminalFaultSpikes, isHardwareSignal, type FaultSpikeCounters } from './fault-spike.js';
export { isImpossibleTravel } from './geo.js';
export { travelHorizonMs } from '../../util/geo.js';
export { cardPatternAnomaly, faultSpikeAnomaly } from './pattern-anomaly.js';
