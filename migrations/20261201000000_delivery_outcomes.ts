/**
 * What happened to an item's report upstream, and the end of healing:
 * - media_files.callback_result / callback_reported_at: what the main API
 *   said to the completion (accepted, accepted_minimal, already_processed,
 *   upload_unknown), and when; uploads delivered earlier are back-filled;
 * - callback_resends / callback_resent_at: lost-callback re-sends are capped
 *   and spaced out;
 * - processing_checklist.gave_up_at: the heal budget ran out; the item is
 *   failed for good and reported (CONTRACT.md §4, "retries exhausted");
 * - media_files.failure_report_claimed_at: the failure-report outbox's lease,
 *   so a report is sent at least once even if its sender dies mid-call
 *   (failure_reported_at now means "the main API confirmed it").
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_files', (t) => {
    t.string('callback_result', 24).nullable();
    t.bigInteger('callback_reported_at').nullable();
    t.integer('callback_resends').notNullable().defaultTo(0);
    t.bigInteger('callback_resent_at').nullable();
    t.bigInteger('failure_report_claimed_at').nullable();
  });
  await knex.schema.alterTable('processing_checklist', (t) => {
    t.bigInteger('gave_up_at').nullable();
  });
  // Uploads delivered before this migration: their completion was accepted (the callback step
  // completed), so they must never be reported as failures later.
  await knex('media_files')
    .where({ source: 'main_api' })
    .whereNull('callback_result')
    .whereIn('id', knex('processing_checklist').select('media_id').where({ update_callback: 'completed' }))
    .update({ callback_result: 'accepted', callback_reported_at: knex.ref('completed_at') });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('processing_checklist', (t) => {
    t.dropColumn('gave_up_at');
  });
  await knex.schema.alterTable('media_files', (t) => {
    t.dropColumn('failure_report_claimed_at');
    t.dropColumn('callback_resent_at');
    t.dropColumn('callback_resends');
    t.dropColumn('callback_reported_at');
    t.dropColumn('callback_result');
  });
}
