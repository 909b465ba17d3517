/**
 * Idempotency-Keys compare exactly (issue 16). On MariaDB the columns of
 * 20261201030000_http_uploads took the database's default collation
 * (utf8mb4_general_ci, case- and accent-insensitive), so a caller's keys
 * "A" and "a" were one key: the second, a new upload, was answered with the
 * first's item (200, same bytes) or a 409 (other bytes) instead of its own. The key and its owner (the API key's name,
 * which the keyring also tells apart exactly) become binary: compared byte
 * for byte, as SQLite already compares them. Relaxing the unique index
 * cannot fail on existing rows. SQLite needs nothing.
 */
import type { Knex } from 'knex';

function isMysql(knex: Knex): boolean {
  return (knex.client as { config: { client: string } }).config.client === 'mysql2';
}

export async function up(knex: Knex): Promise<void> {
  if (!isMysql(knex)) return;
  await knex.raw(
    `ALTER TABLE media_files
       MODIFY idempotency_owner VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
       MODIFY idempotency_key VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL`,
  );
}

export async function down(knex: Knex): Promise<void> {
  if (!isMysql(knex)) return;
  // Back to the table's default collation, as 20261201030000_http_uploads made them.
  await knex.raw(
    `ALTER TABLE media_files
       MODIFY idempotency_owner VARCHAR(32) NULL,
       MODIFY idempotency_key VARCHAR(200) NULL`,
  );
}
