/**
 * Deleting an item's files while keeping its metadata, so /serve answers
 * 410. The rows change first (db/item-deletion.ts): a worker still holding
 * the item has its next write refused, and any file it writes afterwards is
 * an orphan for the next cleanup.
 */
import type { Db } from '../db/connect.js';
import type { ItemFiles } from '../db/cleanup-selections.js';
import { clearOriginal, markItemDeleted } from '../db/item-deletion.js';
import type { ObjectStore } from '../storage/object-store.js';

/** Marks the item deleted (metadata kept), then removes its files. Returns false if it was already deleted. */
export async function deleteItem(
  db: Db,
  storage: ObjectStore,
  files: ItemFiles,
  reason: string,
): Promise<boolean> {
  if (!(await markItemDeleted(db, files.id, reason, Date.now()))) return false;
  // Files go after the rows: a crash in between leaves orphan files (removed later), never rows pointing at nothing.
  for (const path of [files.bulkPath, ...files.variantPaths]) if (path) await storage.delete(path);
  return true;
}

/** Removes an original from bulk/ (its variants stay and keep being served). */
export async function deleteOriginal(
  db: Db,
  storage: ObjectStore,
  id: number,
  bulkPath: string,
): Promise<boolean> {
  if (!(await clearOriginal(db, id, bulkPath, Date.now()))) return false;
  await storage.delete(bulkPath);
  return true;
}
