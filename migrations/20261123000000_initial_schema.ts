/**
 * The initial schema (DESIGN.md "Data model"). Times are epoch milliseconds
 * in BIGINT columns: the same type, comparison and precision on MySQL and
 * SQLite, and no time-zone conversion anywhere. Never edit once landed.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await createMediaFiles(knex);
  await createProcessingChecklist(knex);
  await createProcessingEvents(knex);
  await createMediaVariants(knex);
  await createMediaAiAnalysis(knex);
  await createWorkers(knex);
}

async function createMediaFiles(knex: Knex): Promise<void> {
  await knex.schema.createTable('media_files', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('main_api_id').unsigned().nullable().unique();
    t.string('source', 16).notNullable();
    t.string('source_path', 1024).notNullable();
    t.bigInteger('user_id').unsigned().notNullable().defaultTo(0);
    t.string('role', 16).notNullable();
    t.string('data_type', 16).notNullable();
    t.string('original_name', 255).nullable();
    t.string('declared_mime_type', 100).nullable();
    t.string('mime_type', 50).nullable();
    t.bigInteger('file_size').nullable();
    t.string('sha256', 64).nullable().index();
    t.integer('width').nullable();
    t.integer('height').nullable();
    t.boolean('has_alpha').nullable();
    t.string('bulk_path', 512).nullable();
    t.string('library_path', 512).nullable();
    t.string('status', 16).notNullable().defaultTo('pending').index();
    t.boolean('is_test_data').notNullable().defaultTo(false);
    t.bigInteger('expires_at').nullable().index();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.bigInteger('completed_at').nullable();
    t.bigInteger('deleted_at').nullable();
  });
}

async function createProcessingChecklist(knex: Knex): Promise<void> {
  await knex.schema.createTable('processing_checklist', (t) => {
    t.bigInteger('media_id').unsigned().primary().references('id').inTable('media_files').onDelete('CASCADE');
    // queued → the claim query looks at it; completed/failed → it does not.
    t.string('state', 16).notNullable().defaultTo('queued');
    t.string('worker_id', 128).nullable();
    t.string('claim_token', 36).nullable().index();
    // Set by a claim that took over an expired lease: the worker that stopped mid-step.
    t.string('taken_over_from', 128).nullable();
    t.bigInteger('lease_expires_at').nullable();
    t.bigInteger('next_attempt_at').notNullable();
    for (const step of ['retrieve_file', 'ai_visual_analysis', 'resize_optimize', 'update_callback']) {
      t.string(step, 16).notNullable().defaultTo('pending');
      t.integer(`${step}_attempts`).notNullable().defaultTo(0);
    }
    t.text('last_error').nullable();
    t.string('last_error_class', 16).nullable();
    t.string('failed_step', 32).nullable();
    t.bigInteger('failed_at').nullable();
    t.integer('heal_count').notNullable().defaultTo(0);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    // Serves the claim query's WHERE state = … AND next_attempt_at <= … ORDER BY next_attempt_at,
    // so SKIP LOCKED locks only the rows it returns (checked with EXPLAIN in the tests).
    t.index(['state', 'next_attempt_at'], 'checklist_claim_idx');
    t.index(['state', 'last_error_class', 'failed_at'], 'checklist_heal_idx');
  });
}

async function createProcessingEvents(knex: Knex): Promise<void> {
  await knex.schema.createTable('processing_events', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('media_id')
      .unsigned()
      .notNullable()
      .references('id')
      .inTable('media_files')
      .onDelete('CASCADE');
    t.string('step', 32).nullable();
    t.string('event', 24).notNullable();
    t.integer('attempt').nullable();
    t.string('worker_id', 128).nullable();
    t.string('error_class', 16).nullable();
    t.text('message').nullable();
    t.bigInteger('at').notNullable();
    t.index(['media_id', 'id'], 'events_media_idx');
  });
}

async function createMediaVariants(knex: Knex): Promise<void> {
  await knex.schema.createTable('media_variants', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('media_id')
      .unsigned()
      .notNullable()
      .references('id')
      .inTable('media_files')
      .onDelete('CASCADE');
    t.string('size', 16).notNullable();
    t.string('format', 8).notNullable();
    t.string('bg', 8).notNullable().defaultTo('original');
    t.integer('width').notNullable();
    t.integer('height').notNullable();
    t.bigInteger('bytes').notNullable();
    t.string('path', 512).notNullable();
    t.string('etag', 64).notNullable();
    t.bigInteger('created_at').notNullable();
    t.unique(['media_id', 'size', 'format', 'bg'], { indexName: 'variants_unique_idx' });
  });
}

async function createMediaAiAnalysis(knex: Knex): Promise<void> {
  await knex.schema.createTable('media_ai_analysis', (t) => {
    t.bigInteger('media_id').unsigned().primary().references('id').inTable('media_files').onDelete('CASCADE');
    t.text('dominant_colors').nullable();
    t.text('detected_objects').nullable();
    t.text('detected_text').nullable();
    t.string('style_classification', 100).nullable();
    t.string('medium_detected', 100).nullable();
    t.string('subject_matter', 255).nullable();
    t.integer('quality_score').nullable();
    t.text('mood_keywords').nullable();
    t.float('confidence_score').nullable();
    t.text('raw_responses', 'mediumtext').nullable();
    t.string('placeholder_hash', 64).nullable();
    t.string('perceptual_hash', 16).nullable();
    t.text('exif_summary').nullable();
    t.text('brand_colors').nullable();
    t.text('site_context').nullable();
    t.string('provider', 64).nullable();
    t.string('provider_version', 32).nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
}

async function createWorkers(knex: Knex): Promise<void> {
  await knex.schema.createTable('workers', (t) => {
    t.string('worker_id', 128).primary();
    t.string('host', 255).notNullable();
    t.integer('pid').notNullable();
    t.string('version', 32).notNullable();
    t.integer('concurrency').notNullable();
    t.bigInteger('started_at').notNullable();
    t.bigInteger('heartbeat_at').notNullable();
    t.bigInteger('stopped_at').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'workers',
    'media_ai_analysis',
    'media_variants',
    'processing_events',
    'processing_checklist',
    'media_files',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
