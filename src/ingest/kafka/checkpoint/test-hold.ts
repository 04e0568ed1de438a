/**
 * Test hook, for the crash tests only (docs/testing.md, "Checkpoint write
 * hold"): with `POSGUARD_TEST_CHECKPOINT_HOLD=<n>:<ms>` in the environment, the
 * n-th checkpoint write of the process (1-based, counting every key's write)
 * waits `ms` after its chunks are acknowledged and before its manifest is sent,
 * and says so in one line on stderr (not through the logger: the run may
 * quieten the store's), so a test can SIGKILL a real `posguard run` in the
 * middle of a checkpoint write. Unset (production), it does nothing.
 */

const ENV = 'POSGUARD_TEST_CHECKPOINT_HOLD';
let writes = 0;

/** Awaited by the store between a write's chunks and its manifest. */
export async function testHoldBeforeManifest(what: string): Promise<void> {
  const spec = process.env[ENV];
  if (!spec) return;
  const m = /^(\d+):(\d+)$/.exec(spec);
  writes++;
  if (!m || Number(m[1]) !== writes) return;
  process.stderr.write(`${ENV}: checkpoint write ${writes} (${what}) holding ${m[2]} ms before its manifest\n`);
  await new Promise((r) => setTimeout(r, Number(m[2])));
}
