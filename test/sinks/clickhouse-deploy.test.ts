/** deploy/clickhouse: the users a server needs, with the limits docs/storage.md promises. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const users = readFileSync(new URL('../../deploy/clickhouse/users.d/posguard.xml', import.meta.url), 'utf8');
const config = readFileSync(new URL('../../deploy/clickhouse/config.d/posguard.xml', import.meta.url), 'utf8');
const block = (xml: string, tag: string) => new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml.replace(/<!--[\s\S]*?-->/g, ''))?.[1] ?? '';

describe('deploy/clickhouse', () => {
  it('has a read-only analyst with memory and time limits it cannot raise', () => {
    const profile = block(block(users, 'profiles'), 'posguard_analyst');
    expect(profile).toMatch(/<readonly>[12]<\/readonly>/);
    expect(profile).toMatch(/<max_memory_usage>\d+<\/max_memory_usage>/);
    expect(profile).toMatch(/<max_execution_time>\d+<\/max_execution_time>/);
    const constraints = block(profile, 'constraints');
    expect(constraints).toContain('<max_memory_usage>');
    expect(constraints).toContain('<max_execution_time>');
    const analyst = block(block(users, 'users'), 'analyst');
    expect(analyst).toContain('<profile>posguard_analyst</profile>');
    expect(block(analyst, 'grants').match(/<query>[^<]*<\/query>/g)).toEqual(['<query>GRANT SELECT ON posguard.*</query>']);
  });

  it('has a writer that can migrate and insert, with deduplication on', () => {
    const writer = block(block(users, 'users'), 'posguard_writer');
    expect(block(writer, 'grants')).toMatch(/GRANT INSERT, SELECT/);
    expect(block(writer, 'grants')).toMatch(/CREATE TABLE/);
    expect(block(block(users, 'profiles'), 'posguard_writer')).toContain('<insert_deduplicate>1</insert_deduplicate>');
  });

  it('keeps passwords out of the files and the server on UTC', () => {
    expect(users).not.toMatch(/<password>[^<]+<\/password>/);
    expect(users.match(/from_env="POSGUARD_\w+_PASSWORD"/g)).toHaveLength(2);
    expect(config).toContain('<timezone>UTC</timezone>');
  });
});
