/**
 * The Items page's filter: read from the query (a GET form, so a filtered
 * list is a link), turned into listMedia's filters, written back as a query
 * string, as hidden fields (the bulk actions' forms post the filter they
 * were confirmed for) and as a sentence. A value that does not parse is
 * named and left out, never guessed.
 */
import type { ErrorClass } from '../../errors.js';
import { ITEM_STATUSES, type ItemStatus } from '../../db/item-view.js';
import type { MediaListFilters } from '../../db/media-list.js';
import { STEP_NAMES, parseStepName } from '../../db/step-columns.js';
import { ROLES } from '../../media-roles.js';
import { html, type SafeHtml } from '../html.js';

export const FILTER_FIELDS = [
  'id',
  'main_api_id',
  'status',
  'step',
  'error_class',
  'role',
  'data_type',
  'user_id',
  'test',
  'since',
  'until',
] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];
export type FilterValues = Record<FilterField, string>;

export const ERROR_CLASSES: readonly ErrorClass[] = [
  'INVALID_INPUT',
  'GONE',
  'TRANSIENT',
  'RATE_LIMIT',
  'AUTH',
];
const DATA_TYPES = ['profile', 'logo', 'sites', 'product', 'event'];
const ID = /^[1-9]\d{0,14}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

export interface ParsedFilters {
  values: FilterValues;
  filters: Omit<MediaListFilters, 'limit'>;
  problems: string[];
}

function dateMs(raw: string): number | undefined {
  if (!DATE.test(raw)) return undefined;
  const ms = Date.parse(`${raw}T00:00:00Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

type Parser = (raw: string) => Partial<MediaListFilters> | string;

const oneOf = (allowed: readonly string[], field: string, pick: (raw: string) => Partial<MediaListFilters>) =>
  ((raw) => (allowed.includes(raw) ? pick(raw) : `${field} must be one of ${allowed.join(', ')}`)) as Parser;

const PARSERS: Record<FilterField, Parser> = {
  id: (raw) => (ID.test(raw) ? { mediaId: Number(raw) } : 'id must be a positive integer'),
  main_api_id: (raw) =>
    ID.test(raw) ? { mainApiId: Number(raw) } : 'main API id must be a positive integer',
  status: oneOf(ITEM_STATUSES, 'status', (raw) => ({ status: raw as ItemStatus })),
  step: (raw) => {
    const step = parseStepName(raw);
    return step ? { failedStep: step } : `step must be one of ${STEP_NAMES.join(', ')}`;
  },
  error_class: oneOf(ERROR_CLASSES, 'error class', (raw) => ({ errorClass: raw })),
  role: oneOf([...ROLES, 'unknown'], 'role', (raw) => ({ role: raw })),
  data_type: oneOf(DATA_TYPES, 'data type', (raw) => ({ dataType: raw })),
  user_id: (raw) => (/^\d{1,15}$/.test(raw) ? { userId: Number(raw) } : 'user must be a number'),
  test: oneOf(['yes', 'no'], 'test data', (raw) => ({ isTestData: raw === 'yes' })),
  since: (raw) => {
    const ms = dateMs(raw);
    return ms === undefined ? 'since must be a date (YYYY-MM-DD)' : { since: ms };
  },
  // The day named is included: until is the start of the next one.
  until: (raw) => {
    const ms = dateMs(raw);
    return ms === undefined ? 'until must be a date (YYYY-MM-DD)' : { until: ms + DAY_MS };
  },
};

export function parseItemFilters(query: Record<string, unknown>): ParsedFilters {
  const values = {} as FilterValues;
  let filters: Omit<MediaListFilters, 'limit'> = {};
  const problems: string[] = [];
  for (const field of FILTER_FIELDS) {
    const given = query[field];
    const raw = typeof given === 'string' ? given.trim().slice(0, 40) : '';
    values[field] = raw;
    if (raw === '') continue;
    const parsed = PARSERS[field](raw);
    if (typeof parsed === 'string') {
      problems.push(parsed);
      values[field] = '';
    } else filters = { ...filters, ...parsed };
  }
  return { values, filters, problems };
}

/** The filter as query parameters (only the fields given), for links and redirects. */
export function filterQuery(values: FilterValues, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const field of FILTER_FIELDS) if (values[field] !== '') params.set(field, values[field]);
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The filter as hidden fields: what a bulk action's form posts back. */
export function filterFields(values: FilterValues): SafeHtml {
  return html`${FILTER_FIELDS.filter((field) => values[field] !== '').map(
    (field) => html`<input type="hidden" name="${field}" value="${values[field]}" />`,
  )}`;
}

const LABELS: Record<FilterField, string> = {
  id: 'id',
  main_api_id: 'main API id',
  status: 'status',
  step: 'failed at step',
  error_class: 'error class',
  role: 'role',
  data_type: 'data type',
  user_id: 'user',
  test: 'test data',
  since: 'created since',
  until: 'created until',
};

/** "status failed, error class INVALID_INPUT", or "every item". */
export function describeFilters(values: FilterValues): string {
  const parts = FILTER_FIELDS.filter((field) => values[field] !== '').map(
    (field) => `${LABELS[field]} ${values[field]}`,
  );
  return parts.length === 0 ? 'every item' : parts.join(', ');
}

function choice(field: FilterField, options: readonly string[], values: FilterValues): SafeHtml {
  return html`<div>
    <label for="f-${field}">${LABELS[field]}</label>
    <select id="f-${field}" name="${field}">
      <option value="">any</option>
      ${options.map(
        (option) =>
          html`<option value="${option}" ${values[field] === option ? html`selected` : ''}>
            ${option}
          </option>`,
      )}
    </select>
  </div>`;
}

function textField(field: FilterField, type: string, values: FilterValues, hint = ''): SafeHtml {
  return html`<div>
    <label for="f-${field}">${LABELS[field]}${hint}</label>
    <input id="f-${field}" name="${field}" type="${type}" value="${values[field]}" />
  </div>`;
}

export function filterForm(values: FilterValues): SafeHtml {
  return html`<form
    method="get"
    action="/admin/items"
    class="filters"
    role="search"
    aria-label="Filter items"
  >
    ${textField('id', 'search', values)} ${textField('main_api_id', 'search', values)}
    ${choice('status', ITEM_STATUSES, values)} ${choice('step', STEP_NAMES, values)}
    ${choice('error_class', ERROR_CLASSES, values)} ${choice('role', [...ROLES, 'unknown'], values)}
    ${choice('data_type', DATA_TYPES, values)} ${textField('user_id', 'number', values)}
    ${choice('test', ['yes', 'no'], values)} ${textField('since', 'date', values, ' (UTC)')}
    ${textField('until', 'date', values, ' (UTC, included)')}
    <div class="filter-buttons">
      <button type="submit">Filter</button>
      <a class="button secondary" href="/admin/items">Clear</a>
    </div>
  </form>`;
}
