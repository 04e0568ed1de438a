/**
 * Appends JSON lines to a file through one write stream, batching small
 * writes into ~64 KiB chunks and honouring the stream's backpressure. The
 * file is the owner's only (0600, a new folder 0700): anomalies and dead
 * letters carry tokens and masked card data.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { PosguardError } from '../errors.js';
import { mkdirPrivateSync, PRIVATE_FILE_MODE, privateFd } from '../util/private-files.js';

export class JsonlWriter {
  private readonly stream: WriteStream;
  private buf: string[] = [];
  private bufBytes = 0;
  private failure: Error | null = null;
  lines = 0;

  constructor(readonly path: string) {
    try {
      mkdirPrivateSync(dirname(path));
    } catch (e) {
      throw new PosguardError('PG_OUTPUT_UNWRITABLE', `cannot create the folder of ${path}: ${(e as Error).message}`, { cause: e });
    }
    this.stream = createWriteStream(path, { flags: 'w', mode: PRIVATE_FILE_MODE });
    this.stream.on('error', (e) => (this.failure = e));
    // mode applies to a new file only; one that existed is narrowed before the first write.
    this.stream.on('open', (fd: number) => {
      try {
        privateFd(fd);
      } catch (e) {
        this.failure = e as Error;
      }
    });
  }

  /** Resolves once the file is open, or throws a clear error when it cannot be. */
  async ready(): Promise<void> {
    if (this.stream.pending) {
      await Promise.race([once(this.stream, 'ready'), once(this.stream, 'error').then(([e]) => Promise.reject(e))]).catch((e: Error) => {
        throw new PosguardError('PG_OUTPUT_UNWRITABLE', `cannot write ${this.path}: ${e.message}`, { cause: e });
      });
    }
  }

  write(value: unknown): void {
    const line = JSON.stringify(value) + '\n';
    this.buf.push(line);
    this.bufBytes += line.length;
    this.lines++;
    if (this.bufBytes >= 65536) this.flushBuffer();
  }

  private flushBuffer(): boolean {
    if (this.buf.length === 0) return true;
    const ok = this.stream.write(this.buf.join(''));
    this.buf = [];
    this.bufBytes = 0;
    return ok;
  }

  /** True when the OS-side buffer is full and the caller should await drain(). */
  get congested(): boolean {
    return this.stream.writableNeedDrain;
  }

  async drain(): Promise<void> {
    this.check();
    if (!this.flushBuffer()) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    this.flushBuffer();
    this.stream.end();
    await once(this.stream, 'finish').catch(() => undefined);
    this.check();
  }

  private check(): void {
    if (this.failure) throw new PosguardError('PG_OUTPUT_UNWRITABLE', `cannot write ${this.path}: ${this.failure.message}`, { cause: this.failure });
  }
}
