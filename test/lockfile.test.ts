/**
 * `npm ci` on a fresh machine refuses a lock file that lacks an optional
 * dependency, even one for another platform. chdb's macOS/arm builds are not
 * served by the registry this project installs from, so `npm install` drops
 * them from the lock; they are kept there by hand (platform-tagged, so npm
 * skips them here). Re-add them if this fails after an `npm install`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('package-lock.json', () => {
  it('lists every optional platform package of chdb, so npm ci accepts it', () => {
    const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, unknown> };
    const chdb = JSON.parse(readFileSync(new URL('../node_modules/chdb/package.json', import.meta.url), 'utf8')) as { optionalDependencies: Record<string, string> };
    for (const name of Object.keys(chdb.optionalDependencies)) expect(lock.packages, name).toHaveProperty([`node_modules/${name}`]);
  });
});
