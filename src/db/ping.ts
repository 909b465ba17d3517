/** The cheapest question the database can answer: is it there? */
import type { Db } from './connect.js';

export async function pingDatabase(db: Db): Promise<void> {
  await db.raw('select 1');
}
