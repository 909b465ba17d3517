/**
 * The dashboard's pages, each module registering its routes. A page module
 * exports one `register…` function of this shape and is listed here.
 */
import type { FastifyInstance } from 'fastify';
import type { DashboardContext } from '../dashboard-context.js';
import { registerAuditPages } from './audit-page.js';
import { registerFailuresPages } from './failures-page.js';
import { registerItemPages } from './item-page.js';
import { registerItemsPages } from './items-page.js';
import { registerOverviewPages } from './overview-page.js';
import { registerStoragePages } from './storage-page.js';
import { registerWorkersPages } from './workers-page.js';

export type RegisterPage = (app: FastifyInstance, context: DashboardContext) => void;

export const DASHBOARD_PAGES: readonly RegisterPage[] = [
  registerOverviewPages,
  registerWorkersPages,
  registerStoragePages,
  registerAuditPages,
  registerItemsPages,
  registerItemPages,
  registerFailuresPages,
];
