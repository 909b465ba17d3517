/**
 * The admin audit and the fleet-wide pause (issue 16).
 *
 * `admin_audit`: one row per admin action, from the API (actor = the key's
 * name) or the CLI (actor = `cli:<os user>`), written even when the action
 * failed. Listed newest first, by actor or action: hence the (…, id) indexes.
 *
 * `fleet_state`: exactly one row (id 1). `paused` stops every worker of every
 * VM from claiming: the database is the source of truth, so a pause given on
 * one machine holds for all.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('admin_audit', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('at').notNullable();
    t.string('actor', 128).notNullable();
    t.string('action', 32).notNullable();
    t.text('parameters').notNullable();
    t.string('outcome', 16).notNullable();
    t.text('detail').nullable();
    t.index(['at', 'id'], 'admin_audit_at_idx');
    t.index(['actor', 'id'], 'admin_audit_actor_idx');
    t.index(['action', 'id'], 'admin_audit_action_idx');
  });
  await knex.schema.createTable('fleet_state', (t) => {
    t.integer('id').primary();
    t.boolean('paused').notNullable().defaultTo(false);
    t.string('paused_by', 128).nullable();
    t.bigInteger('paused_at').nullable();
    t.string('reason', 500).nullable();
    t.bigInteger('updated_at').notNullable();
  });
  await knex('fleet_state').insert({ id: 1, paused: false, updated_at: Date.now() });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('fleet_state');
  await knex.schema.dropTableIfExists('admin_audit');
}
