/** Records which completed item an upload's variants and analysis were reused from (identical bytes). */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_files', (t) => {
    t.bigInteger('duplicate_of').unsigned().nullable();
    t.index(['sha256', 'role', 'status'], 'media_dedup_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_files', (t) => {
    t.dropIndex(['sha256', 'role', 'status'], 'media_dedup_idx');
    t.dropColumn('duplicate_of');
  });
}
