/**
 * The indexes GET /api/media's filters use, each ending in id so a filtered
 * page is read in id order (keyset pagination) without a sort:
 * - media_user_idx (user_id, id): one user's media;
 * - media_created_idx (created_at, id): since/until.
 * status already has an index of its own (initial_schema), and both InnoDB
 * and SQLite keep the primary key in every secondary index, so (status)
 * serves (status, id).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_files', (t) => {
    t.index(['user_id', 'id'], 'media_user_idx');
    t.index(['created_at', 'id'], 'media_created_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_files', (t) => {
    t.dropIndex(['created_at', 'id'], 'media_created_idx');
    t.dropIndex(['user_id', 'id'], 'media_user_idx');
  });
}
