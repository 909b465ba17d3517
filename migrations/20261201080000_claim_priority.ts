/**
 * New work first: processing_checklist.priority (0 = a new upload, larger =
 * later; heals, requeues and re-renders are queued at 10) and the index the
 * claim's new order reads, (state, priority, next_attempt_at, media_id): the
 * claim scans queued rows in exactly that order, skipping those not yet due,
 * so neither database sorts. checklist_claim_idx stays: the heal and stats
 * queries filter on (state, next_attempt_at) without the priority.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('processing_checklist', (t) => {
    t.integer('priority').notNullable().defaultTo(0);
  });
  await knex.schema.alterTable('processing_checklist', (t) => {
    t.index(['state', 'priority', 'next_attempt_at', 'media_id'], 'checklist_priority_claim_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('processing_checklist', (t) => {
    t.dropIndex(['state', 'priority', 'next_attempt_at', 'media_id'], 'checklist_priority_claim_idx');
  });
  await knex.schema.alterTable('processing_checklist', (t) => {
    t.dropColumn('priority');
  });
}
