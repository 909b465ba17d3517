/**
 * An analysis provider looks at one decoded item and reports fields, each
 * with its own confidence, plus its raw output. Providers are independent:
 * the analyse step runs each one configured and merges what they report
 * (merge-analysis.ts), so one failing never costs the others' results.
 */
import type { DecodedImage } from '../images/decode-once.js';
import type { BackgroundRemoval } from '../images/remove-background.js';
import type { Role } from '../media-roles.js';

export const PROVIDER_NAMES = ['local', 'models', 'remote', 'openai', 'google'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** The media_ai_analysis fields a provider may report (JSON columns hold structured values). */
export type AnalysisField =
  | 'dominant_colors'
  | 'quality_score'
  | 'mood_keywords'
  | 'brand_colors'
  | 'site_context'
  | 'placeholder_hash'
  | 'perceptual_hash'
  | 'exif_summary'
  | 'detected_objects'
  | 'faces'
  | 'detected_text'
  | 'moderation'
  | 'medium_detected'
  | 'subject_matter'
  | 'style_classification'
  | 'caption'
  | 'alt_text'
  | 'quality_assessment';

/** One reported value; confidence in 0–1, or null where the value is a measurement, not a guess. */
export interface FieldReport {
  value: unknown;
  confidence: number | null;
}

export interface ProviderReport {
  fields: Partial<Record<AnalysisField, FieldReport>>;
  /** Everything the provider produced, kept verbatim in raw_responses. */
  raw: unknown;
  /** True when a learned model (not a formula) produced at least one field: the callback's ai_enhanced. */
  usedModels: boolean;
  /** The version that answered, when it is known only from the answer (a remote service). */
  version?: string;
  /** What the call itself took, as the provider counts it (bytes sent, requests, a service's own usage): the step's cost. */
  usage?: Record<string, unknown>;
  /** Paid providers: what the call cost at the configured prices; null when no price is configured. */
  cost?: number | null;
  /** Paid providers: the service reported no usage, so `cost` is an estimate (docs/analysis-providers.md). */
  costEstimated?: boolean;
}

export interface AnalysisInput {
  image: DecodedImage;
  role: Role;
  original: { width: number; height: number; path: string };
  /** Logos only: the image with its background removed, when there was one. */
  removal: BackgroundRemoval | undefined;
  /** Aborted at forced shutdown or a lost lease: a provider waiting on the network stops waiting. */
  signal?: AbortSignal;
}

/** A model (or service) a provider depends on, as `doctor` and the start-up log list it. */
export interface ModelDescription {
  task: string;
  model: string;
  package: string;
  version: string | null;
  licence: string;
  /** Why it will not run here, when it will not. */
  unavailable?: string;
}

/**
 * A provider whose calls are paid for (openai, google): what its answers are
 * cached under, its daily budget, and the gate that caps its concurrency.
 * The analyse step reads the cache and the budget (billed-run.ts) before it
 * calls analyse().
 */
export interface ProviderBilling {
  /** The model (or API) that answers: part of the cache key. */
  readonly model: string;
  /** Changes whenever the request (prompt, schema, features) changes: part of the cache key. */
  readonly promptVersion: string;
  /** Spend per UTC day after which the provider is skipped; undefined: no budget. */
  readonly dailyBudget: number | undefined;
  /** The process's metrics (metrics.ts), when it has them. */
  readonly hooks?: BillingHooks;
}

/** What a paid provider's calls move in the metrics. */
export interface BillingHooks {
  onProviderCost?(provider: string, cost: number): void;
  onProviderCacheHit?(provider: string, saved: number): void;
}

export interface AnalysisProvider {
  readonly name: ProviderName;
  readonly version: string;
  readonly billing?: ProviderBilling;
  describe(): ModelDescription[];
  analyse(input: AnalysisInput): Promise<ProviderReport>;
  close(): Promise<void>;
}
