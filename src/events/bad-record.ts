/** A record that could not be accepted, with its reason; the payload is PAN-masked by whoever rejected it. */
import type { Stream } from './index.js';

export interface BadRecord {
  readonly source: string;
  readonly stream: Stream | null;
  readonly line: number | null;
  readonly partition: number | null;
  readonly offset: string | null;
  readonly reason: string;
  readonly payload: string;
}
