/**
 * on_demand_renders: the short lease that makes an on-demand variant's
 * render single-flight across processes and machines (db/on-demand-leases.ts).
 * One row per variant being rendered, deleted by the fenced write that stores
 * it; a row whose lease ran out belongs to a holder that died and is taken
 * over. No foreign key: a row outlives nothing (an item deleted meanwhile
 * refuses the write, and its lease just expires).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('on_demand_renders', (t) => {
    t.bigInteger('media_id').unsigned().notNullable();
    t.string('size', 16).notNullable();
    t.string('format', 8).notNullable();
    t.string('bg', 8).notNullable();
    t.string('token', 36).notNullable();
    t.string('holder', 128).notNullable();
    t.bigInteger('lease_expires_at').notNullable();
    t.bigInteger('started_at').notNullable();
    t.primary(['media_id', 'size', 'format', 'bg']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('on_demand_renders');
}
