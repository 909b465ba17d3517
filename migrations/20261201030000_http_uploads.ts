/**
 * Uploads over HTTP (POST /api/media): the Idempotency-Key a caller sent,
 * scoped by the API key's name (idempotency_owner), and the sha256 of the
 * bytes it submitted, so a repeat with the same key is recognised (same
 * bytes: the same item; other bytes: a conflict). The unique index decides
 * between two requests racing with one key; rows without a key (every
 * poller and local item, and HTTP uploads sent without one) hold NULLs,
 * which a unique index allows any number of times on SQLite and MariaDB.
 *
 * incoming_key is the incoming/ object an HTTP upload's bytes were stored
 * under (also its source_path), unique: an insert repeated after its commit's
 * answer was lost (insertMedia rides out database outages) finds its own row
 * instead of registering the upload twice.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_files', (t) => {
    t.string('idempotency_owner', 32).nullable();
    t.string('idempotency_key', 200).nullable();
    t.string('submitted_sha256', 64).nullable();
    t.string('incoming_key', 255).nullable().unique({ indexName: 'media_incoming_key_uq' });
    t.unique(['idempotency_owner', 'idempotency_key'], { indexName: 'media_idempotency_uq' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_files', (t) => {
    t.dropUnique(['idempotency_owner', 'idempotency_key'], 'media_idempotency_uq');
    t.dropUnique(['incoming_key'], 'media_incoming_key_uq');
    t.dropColumn('incoming_key');
    t.dropColumn('submitted_sha256');
    t.dropColumn('idempotency_key');
    t.dropColumn('idempotency_owner');
  });
}
