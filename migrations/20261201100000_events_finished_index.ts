/**
 * The dashboard's throughput chart (issue 17) reads the last hour's finished
 * items from processing_events every few seconds while a page is open: by
 * event (`completed`, `failed`) and time. Without this index every refresh
 * scanned the whole event history.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('processing_events', (t) => {
    t.index(['event', 'at'], 'events_event_at_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('processing_events', (t) => {
    t.dropIndex(['event', 'at'], 'events_event_at_idx');
  });
}
