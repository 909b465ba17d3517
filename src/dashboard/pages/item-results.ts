/**
 * The parts of the Item page about what processing gave: the analysis (as
 * GET /api/media/analysis/:id answers it), the callback history (what the
 * main API answered, re-sends, and the callback step's events) and the cost
 * (the item view's, as GET /api/media/:id gives it). OCR text and provider
 * answers go through `html`: text, never markup.
 */
import type { ContractAnalysis } from '../../analysis/contract-body.js';
import type { EventRecord } from '../../db/item-detail.js';
import type { ItemView } from '../../db/item-view.js';
import type { MediaRecord } from '../../db/records.js';
import { formatBytes, formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { eventTable, factList, type Fact } from './item-sections.js';

function analysisValue(value: unknown): SafeHtml | string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value) && value.length === 0) return '[]';
  // A list of words or colours reads better as a line than as JSON.
  if (Array.isArray(value) && value.every((entry) => typeof entry === 'string' || typeof entry === 'number'))
    return value.join(', ');
  return html`<pre>${JSON.stringify(value, null, 2)}</pre>`;
}

export function analysisSection(analysis: ContractAnalysis | undefined): SafeHtml {
  const body = analysis
    ? factList(
        'The analysis',
        Object.entries(analysis).map(([name, value]): Fact => [
          name.replaceAll('_', ' '),
          analysisValue(value),
        ]),
      )
    : html`<p class="muted">No analysis yet.</p>`;
  return html`<section aria-labelledby="analysis-title">
    <h2 id="analysis-title">Analysis</h2>
    ${body}
  </section>`;
}

const isCallbackEvent = (event: EventRecord) =>
  event.step === 'callback' || event.event === 'failure_reported';

export function callbackSection(media: MediaRecord, events: readonly EventRecord[]): SafeHtml {
  const own = events.filter(isCallbackEvent);
  return html`<section aria-labelledby="callback-title">
    <h2 id="callback-title">Callback history</h2>
    ${factList('Callback', [
      ['main API answer', media.callback_result],
      ['reported', formatTime(media.callback_reported_at)],
      ['lost-callback re-sends', media.callback_resends],
      ['last re-sent', formatTime(media.callback_resent_at)],
      ['failure reported', formatTime(media.failure_reported_at)],
    ])}
    ${own.length === 0 ? html`<p class="muted">No callback attempts yet.</p>` : eventTable(own, 'callbacks')}
  </section>`;
}

export function costSection(view: ItemView): SafeHtml {
  const cost = view.cost;
  const body = cost
    ? factList('Cost', [
        ['wall time', `${cost.wall_seconds.toFixed(3)} s`],
        [
          'CPU time',
          cost.cpu_seconds === null
            ? 'not known (ran beside another attempt)'
            : `${cost.cpu_seconds.toFixed(3)} s`,
        ],
        ['bytes read', formatBytes(cost.bytes_read)],
        ['bytes written', formatBytes(cost.bytes_written)],
        ['provider calls', cost.provider_call_count],
        ...(cost.provider_cost !== undefined
          ? [['provider cost', cost.provider_cost ?? 'not priced'] as Fact]
          : []),
        ...(cost.provider_cost_saved !== undefined
          ? [['saved by the cache', cost.provider_cost_saved] as Fact]
          : []),
      ])
    : html`<p class="muted">No step has run yet.</p>`;
  return html`<section aria-labelledby="cost-title">
    <h2 id="cost-title">Cost</h2>
    ${body}
  </section>`;
}
