/** The simulator's event queue uses the shared heap. */
export { MinHeap } from '../util/heap.js';
