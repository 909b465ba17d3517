/** What every dashboard page module is handed: the admin functions' context, the layout, the keys' roles. */
import type { AdminContext } from '../admin/admin-context.js';
import type { LayoutParts } from './page-layout.js';
import type { SessionSettings } from './dashboard-session.js';

export interface DashboardContext {
  /** The same context the CLI and /api/admin hand the admin functions: one implementation of each action. */
  admin: AdminContext;
  layout: LayoutParts;
  sessionSettings: SessionSettings;
}
