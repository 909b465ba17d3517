/** RETENTION_DAYS knows exactly the data types the roles are stored under. */
import { describe, expect, it } from 'vitest';
import { ROLES, dataTypeOf } from '../../src/media-roles.js';
import { expiresAtFor, parseRetentionDays } from '../../src/retention.js';

describe('parseRetentionDays', () => {
  it("accepts every role's data type", () => {
    const dataTypes = [...new Set(ROLES.map(dataTypeOf))];
    const days = parseRetentionDays(dataTypes.map((type, i) => `${type}:${i + 1}`).join(','));
    expect(Object.keys(days).sort()).toEqual([...dataTypes].sort());
  });

  it('refuses a data type no role has, naming the ones there are', () => {
    expect(() => parseRetentionDays('header:30')).toThrow(
      'with data types profile, logo, sites, product, event and whole days ≥ 1 (got "header:30")',
    );
    expect(() => parseRetentionDays('event:0')).toThrow(/whole days ≥ 1/);
  });

  it('gives items of a listed data type their expiry, others none', () => {
    const policy = { itemDays: parseRetentionDays('event:2'), originalsDays: 0, testDataHours: 1 };
    expect(expiresAtFor(policy, 'event', false, 1000)).toBe(1000 + 2 * 86_400_000);
    expect(expiresAtFor(policy, 'profile', false, 1000)).toBeNull();
    expect(expiresAtFor(policy, 'profile', true, 1000)).toBe(1000 + 3_600_000);
  });
});
