/**
 * What the admin commands share: their actor in the audit (`cli:<os user>`)
 * and the admin context (database, store, settings) the API's routes get too.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { adminSettingsOf, type AdminContext } from '../admin/admin-context.js';
import { objectStoreFor } from '../storage/object-store-for.js';
import { withDatabase, type DatabaseUse } from './context.js';

/** Under systemd (the cleanup timer) that is `cli:media-worker`. */
export function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    // No passwd entry for the uid (a container): the uid still says who.
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/** Runs an admin command with the database and the store; the store is closed afterwards. */
export async function withAdmin<T>(
  command: Command,
  action: (context: AdminContext) => Promise<T>,
  use: DatabaseUse = {},
): Promise<T> {
  return withDatabase(
    command,
    async ({ db, config, log }) => {
      const store = objectStoreFor(config);
      try {
        return await action({ db, log, store, settings: adminSettingsOf(config) });
      } finally {
        await store.close();
      }
    },
    use,
  );
}
