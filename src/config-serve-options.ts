/**
 * The option rows of /serve's on-demand variants and memory cache
 * (docs/serving-performance.md), gathered into the option table by
 * config-options.ts.
 */
import { nonNegativeInt, positiveInt } from './config-parsers.js';
import { option } from './config-row.js';
import { DEFAULT_ON_DEMAND_SIZES, parseOnDemandSizes } from './images/on-demand-sizes.js';

export const SERVE_OPTIONS = [
  option({
    key: 'onDemandSizes',
    env: 'ON_DEMAND_SIZES',
    default: DEFAULT_ON_DEMAND_SIZES,
    parse: parseOnDemandSizes,
    doc: 'sizes not made by the resize step but by the first /serve that asks for one (header, zoom; none: every size eagerly); their originals are kept (docs/serving-performance.md)',
  }),
  option({
    key: 'onDemandConcurrency',
    env: 'ON_DEMAND_CONCURRENCY',
    default: '1',
    parse: positiveInt,
    doc: 'on-demand renders at once in this process; a request for another variant beyond it is answered 503 with Retry-After',
  }),
  option({
    key: 'serveMemoryCacheMb',
    env: 'SERVE_MEMORY_CACHE_MB',
    default: '64',
    parse: nonNegativeInt,
    doc: 'in-memory LRU of small variant bodies /serve answers from (each at most 1/64 of it; 0: off)',
  }),
] as const;
