/**
 * Dashboard sessions (issue 17). A browser that logged in with a key holds
 * a random session id in a cookie; the row holds only its sha256 (a copied
 * table gives nobody a session), the key's name and role, the sha256 of the
 * key it logged in with (every request checks that key is still configured
 * with that role: removing or downgrading a key ends its sessions), the CSRF token its
 * forms carry, and when it expires. In the database, not in one process's
 * memory, so every process of every VM behind a load balancer knows it, and
 * logging out or expiring ends it everywhere.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('dashboard_sessions', (t) => {
    t.string('id_hash', 64).primary();
    t.string('key_name', 128).notNullable();
    t.string('role', 16).notNullable();
    t.string('key_digest', 64).notNullable();
    t.string('csrf_token', 64).notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['expires_at'], 'dashboard_sessions_expires_idx');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('dashboard_sessions');
}
