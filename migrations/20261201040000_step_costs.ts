/**
 * What each attempt at a step cost (wall and CPU seconds, bytes read and
 * written, analysis provider calls), as JSON on the event that ended the
 * attempt (completed, skipped, retry_scheduled, failed, released): written in
 * the same fenced transaction as the event, so a crash loses both or neither.
 * Nullable: other events, attempts lost with their worker and events written
 * before this migration have none. See docs/step-cost.md.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('processing_events', (t) => {
    t.text('cost').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('processing_events', (t) => {
    t.dropColumn('cost');
  });
}
