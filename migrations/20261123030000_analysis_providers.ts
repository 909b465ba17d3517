/**
 * Model analysis: faces and moderation results, which provider reported each
 * field (with its version and confidence), and whether a model ran at all
 * (the callback's ai_enhanced). Rows written before this were local analysis
 * only, so ai_enhanced false is their truth.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_ai_analysis', (t) => {
    t.text('faces').nullable();
    t.text('moderation').nullable();
    t.boolean('flagged').nullable();
    t.text('field_sources').nullable();
    t.boolean('ai_enhanced').notNullable().defaultTo(false);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_ai_analysis', (t) => {
    t.dropColumns('faces', 'moderation', 'flagged', 'field_sources', 'ai_enhanced');
  });
}
