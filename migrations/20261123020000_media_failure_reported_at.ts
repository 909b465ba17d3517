/** When the main API was told (DELETE cleanup) that an upload failed for good: makes the report a once-only outbox. */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_files', (t) => {
    t.bigInteger('failure_reported_at').nullable();
    t.index(['source', 'status', 'failure_reported_at'], 'media_failure_report_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_files', (t) => {
    t.dropIndex(['source', 'status', 'failure_reported_at'], 'media_failure_report_idx');
    t.dropColumn('failure_reported_at');
  });
}
