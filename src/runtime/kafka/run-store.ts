/**
 * The output side of a Kafka run: the ClickHouse handle (migrated), the sink
 * over it and the analysts' suppressions read from it, opened together and
 * closed together.
 *
 * Under the exact assignment with an embedded store, a standby on the active
 * member's host cannot open the data folder (chdb locks it): the store is then
 * opened only when this member is given partitions, waiting while the
 * previous holder still has the folder (`openWhenFree`).
 */
import type { Rules } from '../../config/rules.js';
import type { RunConfig } from '../../config/run-config.js';
import { PosguardError } from '../../errors.js';
import type { DetectorMetrics } from '../../metrics/index.js';
import { ClickHouseSink, clientBatchWriter, dataDirHolder, migrate, openClickHouse, type ClickHouseHandle, type ClickHouseSinkStats } from '../../sinks/clickhouse/index.js';
import { describeTarget } from '../../config/clickhouse-target.js';
import { clickHouseStoredAnomalies, type StoredAnomalies } from '../../sinks/clickhouse/stored-anomalies.js';
import { loadActive } from '../../suppress/store.js';
import { Suppressor } from '../../suppress/suppressor.js';
import type { Logger } from '../../util/log.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export interface RunStoreOptions {
  readonly config: RunConfig;
  readonly rules: () => Rules;
  /** The run's base logger: the store logs as component "store", the suppressions as "suppressions". */
  readonly logBase: Logger;
  readonly metrics?: DetectorMetrics;
  readonly now: () => number;
}

export class RunStore {
  /** Open from start-up, or (embedded store held by the active member) from the first assignment on. */
  private handle: ClickHouseHandle | null = null;
  /** Stamps anomalies covered by an analyst's suppression; opened with the store. */
  private suppressor: Suppressor | null = null;
  private store: ClickHouseSink | null = null;
  private readonly log: Logger;

  constructor(private readonly o: RunStoreOptions) {
    this.log = o.logBase.child({ component: 'store' });
  }

  /**
   * Opens the store now, or, when another process holds the embedded folder under the exact
   * assignment (a standby on the active member's host), says so and leaves it for `openWhenFree`.
   */
  async openUnlessHeld(): Promise<void> {
    const target = this.o.config.output.clickhouse;
    const holder = target.kind === 'embedded' && this.o.config.kafka.assignment === 'exact' ? dataDirHolder(target.dataDir) : null;
    if (holder === null) return this.open();
    this.log.info(`${describeTarget(target)} is held by pid ${holder.pid}: it opens when this member is given partitions and the folder is free`);
  }

  private async open(): Promise<void> {
    const handle = await openClickHouse(this.o.config.output.clickhouse);
    try {
      await migrate(handle.client);
    } catch (e) {
      await handle.close().catch(() => undefined);
      throw e;
    }
    this.handle = handle;
    const suppressionsLog = this.o.logBase.child({ component: 'suppressions' });
    this.suppressor = new Suppressor((cap) => loadActive(handle.client, cap), {
      reloadIntervalMs: this.o.config.run.suppressionsReloadMs,
      log: (level, msg) => suppressionsLog[level](msg),
    });
    await this.suppressor.start();
    const out = this.o.config.output;
    this.store = new ClickHouseSink(clientBatchWriter(handle.client), {
      highWaterRows: out.sinkHighWaterRows,
      batchRows: out.sinkBatchRows,
      skipTables: out.skipRawEvents ? ['events_raw'] : [],
      onClose: () => handle.close(),
      onEvent: this.o.metrics?.sinkEvent,
      rules: this.o.rules,
    });
  }

  /** Opens the deferred embedded store, waiting while the previous holder still has the folder and `wanted()` holds. */
  async openWhenFree(wanted: () => boolean): Promise<void> {
    let lastLog = 0;
    while (this.store === null && wanted()) {
      try {
        await this.open();
        this.log.info(`opened the embedded store ${describeTarget(this.o.config.output.clickhouse)}`);
        return;
      } catch (e) {
        if (!(e instanceof PosguardError) || e.code !== 'PG_DATA_LOCKED') throw e;
        if (this.o.now() - lastLog >= 10_000) {
          lastLog = this.o.now();
          this.log.warn(`waiting for the embedded store: ${e.message}`);
        }
        await sleep(250);
      }
    }
  }

  get isOpen(): boolean {
    return this.store !== null;
  }

  /** The sink; exists whenever partitions are held. */
  get sink(): ClickHouseSink {
    if (this.store === null) throw new PosguardError('PG_INTERNAL', 'the ClickHouse sink is used before the store was opened');
    return this.store;
  }

  /** What a rebuild reads back (the store must be open). */
  storedAnomalies(): StoredAnomalies {
    if (this.handle === null) throw new PosguardError('PG_INTERNAL', 'stored anomalies read before the store was opened');
    return clickHouseStoredAnomalies(this.handle.client);
  }

  /** The suppressions applied; undefined before the store is open. */
  suppressions(): Suppressor | undefined {
    return this.suppressor ?? undefined;
  }

  stats(): ClickHouseSinkStats | undefined {
    return this.store?.stats();
  }

  /** Rows buffered for ClickHouse; null before the store is open. */
  backlog(): number | null {
    return this.store?.backlog() ?? null;
  }

  async flush(): Promise<void> {
    await this.store?.flush();
  }

  /** Drops what is buffered (a drain that ran out of time). */
  async abort(why: string): Promise<void> {
    await this.store?.abort(why).catch(() => undefined);
  }

  /** Closes after a clean drain: suppressions, then the sink (its last flush) and the handle. */
  async close(): Promise<void> {
    this.suppressor?.close();
    await this.store?.close().catch((e) => this.log.error(`closing the sink: ${(e as Error).message}`));
  }

  /** Closes after a fatal error: nothing more is written. */
  async closeAfterFailure(): Promise<void> {
    this.suppressor?.close();
    if (this.store !== null) await this.store.abort('fatal error').catch(() => undefined);
    else await this.handle?.close().catch(() => undefined);
  }
}
