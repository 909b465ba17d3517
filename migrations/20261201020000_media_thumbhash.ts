/**
 * The ThumbHash placeholder the resize step computes from the item's one
 * decode (base64, about 30 characters). Nullable: items resized before this
 * migration have none.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_files', (t) => {
    t.string('thumbhash', 64).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('media_files', (t) => {
    t.dropColumn('thumbhash');
  });
}
