/**
 * Every migration, in order. Listed by hand rather than globbed from disk so
 * that the same list works from TypeScript sources (tests) and from dist/.
 */
import type { Knex } from 'knex';
import * as initialSchema from './20261123000000_initial_schema.js';
import * as mediaDuplicateOf from './20261123010000_media_duplicate_of.js';
import * as mediaFailureReportedAt from './20261123020000_media_failure_reported_at.js';
import * as analysisProviders from './20261123030000_analysis_providers.js';
import * as deliveryOutcomes from './20261201000000_delivery_outcomes.js';
import * as mediaListIndexes from './20261201010000_media_list_indexes.js';
import * as mediaThumbhash from './20261201020000_media_thumbhash.js';
import * as httpUploads from './20261201030000_http_uploads.js';
import * as stepCosts from './20261201040000_step_costs.js';
import * as adminAuditAndPause from './20261201050000_admin_audit_and_pause.js';
import * as dashboardSessions from './20261201060000_dashboard_sessions.js';
import * as providerCacheAndCost from './20261201070000_provider_cache_and_cost.js';
import * as claimPriority from './20261201080000_claim_priority.js';
import * as onDemandRenders from './20261201090000_on_demand_renders.js';
import * as eventsFinishedIndex from './20261201100000_events_finished_index.js';
import * as exactIdempotencyKeys from './20261201110000_exact_idempotency_keys.js';

export interface Migration {
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  { name: '20261123000000_initial_schema', ...initialSchema },
  { name: '20261123010000_media_duplicate_of', ...mediaDuplicateOf },
  { name: '20261123020000_media_failure_reported_at', ...mediaFailureReportedAt },
  { name: '20261123030000_analysis_providers', ...analysisProviders },
  { name: '20261201000000_delivery_outcomes', ...deliveryOutcomes },
  { name: '20261201010000_media_list_indexes', ...mediaListIndexes },
  { name: '20261201020000_media_thumbhash', ...mediaThumbhash },
  { name: '20261201030000_http_uploads', ...httpUploads },
  { name: '20261201040000_step_costs', ...stepCosts },
  { name: '20261201050000_admin_audit_and_pause', ...adminAuditAndPause },
  { name: '20261201060000_dashboard_sessions', ...dashboardSessions },
  { name: '20261201070000_provider_cache_and_cost', ...providerCacheAndCost },
  { name: '20261201080000_claim_priority', ...claimPriority },
  { name: '20261201090000_on_demand_renders', ...onDemandRenders },
  { name: '20261201100000_events_finished_index', ...eventsFinishedIndex },
  { name: '20261201110000_exact_idempotency_keys', ...exactIdempotencyKeys },
];
