/**
 * Paid analysis providers (issue 19): what they cost and what must not be
 * paid for twice.
 *
 * `provider_cache`: one stored answer per image (sha256) + provider + model +
 * prompt version; a duplicate upload or a re-run reads it instead of calling
 * again, counting the hit and the money it did not spend.
 *
 * `provider_spend`: per provider and UTC day, what the calls cost and what
 * the cache saved. The daily budget is read from here, so it holds for the
 * whole fleet and across restarts.
 *
 * `provider_state`: a provider paused by an AUTH answer (401/403) or a long
 * Retry-After, fleet-wide, until `paused_until`; `doctor` shows it.
 *
 * `analysis_reruns`: items an operator asked to re-analyse (`reanalyse`):
 * the next analyse step of the item bypasses the cache for these providers.
 *
 * `media_ai_analysis` gains the fields a vision language model answers
 * that had no column: caption, alt text, and the quality judgement's reasons.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('provider_cache', (t) => {
    t.bigIncrements('id').primary();
    t.string('sha256', 64).notNullable();
    t.string('provider', 32).notNullable();
    t.string('model', 128).notNullable();
    t.string('prompt_version', 64).notNullable();
    t.text('answer', 'mediumtext').notNullable();
    t.double('cost').nullable();
    t.integer('hit_count').notNullable().defaultTo(0);
    t.double('saved_cost').notNullable().defaultTo(0);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_hit_at').nullable();
    t.unique(['sha256', 'provider', 'model', 'prompt_version'], { indexName: 'provider_cache_key_idx' });
  });
  await knex.schema.createTable('provider_spend', (t) => {
    t.string('provider', 32).notNullable();
    t.string('day', 10).notNullable();
    t.double('cost').notNullable().defaultTo(0);
    t.integer('calls').notNullable().defaultTo(0);
    t.integer('cache_hits').notNullable().defaultTo(0);
    t.double('saved_cost').notNullable().defaultTo(0);
    t.bigInteger('updated_at').notNullable();
    t.primary(['provider', 'day']);
  });
  await knex.schema.createTable('provider_state', (t) => {
    t.string('provider', 32).primary();
    t.bigInteger('paused_until').notNullable();
    t.string('error_class', 16).notNullable();
    t.string('reason', 300).notNullable();
    t.bigInteger('updated_at').notNullable();
  });
  await knex.schema.createTable('analysis_reruns', (t) => {
    t.bigInteger('media_id').primary();
    t.string('providers', 200).notNullable();
    t.string('requested_by', 128).notNullable();
    t.bigInteger('requested_at').notNullable();
  });
  await knex.schema.alterTable('media_ai_analysis', (t) => {
    t.string('caption', 300).nullable();
    t.string('alt_text', 500).nullable();
    t.text('quality_assessment').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_ai_analysis', (t) => {
    t.dropColumns('caption', 'alt_text', 'quality_assessment');
  });
  for (const table of ['analysis_reruns', 'provider_state', 'provider_spend', 'provider_cache'])
    await knex.schema.dropTableIfExists(table);
}
