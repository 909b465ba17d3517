/**
 * The parts of the Item page about the item itself: the original's facts,
 * the checklist timeline (steps with attempts, durations and costs; every
 * processing event) and the variants as pictures from /serve. Every value
 * goes through `html`, so names and messages are text.
 */
import type { EventRecord } from '../../db/item-detail.js';
import type { ItemView, StepView } from '../../db/item-view.js';
import type { ChecklistRecord, MediaRecord } from '../../db/records.js';
import { formatBytes, formatCount, formatDuration, formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';

export type Fact = [string, string | number | SafeHtml | null];

export function factList(label: string, facts: readonly Fact[]): SafeHtml {
  return html`<dl class="facts" aria-label="${label}">
    ${facts.map(
      ([name, value]) =>
        html`<dt>${name}</dt>
          <dd>${value ?? '–'}</dd>`,
    )}
  </dl>`;
}

const yesNo = (value: boolean | null) => (value === null ? null : value ? 'yes' : 'no');

export function factsSection(media: MediaRecord): SafeHtml {
  return html`<section aria-labelledby="facts-title">
    <h2 id="facts-title">The original</h2>
    ${factList('The original', [
      ['original name', media.original_name],
      ['source', `${media.source}: ${media.source_path}`],
      ['main API id', media.main_api_id],
      [
        'size',
        media.file_size === null
          ? null
          : `${formatBytes(media.file_size)} (${formatCount(media.file_size)} bytes)`,
      ],
      ['mime type', `${media.mime_type ?? '?'} (declared ${media.declared_mime_type ?? 'none'})`],
      ['dimensions', media.width === null ? null : `${media.width} × ${media.height ?? '?'}`],
      ['alpha', yesNo(media.has_alpha)],
      ['user', media.user_id],
      ['role', media.role],
      ['data type', media.data_type],
      ['test data', yesNo(media.is_test_data)],
      ['sha256', media.sha256 ? html`<code>${media.sha256}</code>` : null],
      [
        'duplicate of',
        media.duplicate_of
          ? html`<a href="/admin/items/${media.duplicate_of}">${media.duplicate_of}</a>`
          : null,
      ],
      ['kept original', media.bulk_path ? 'yes' : 'no'],
      ['created', formatTime(media.created_at)],
      ['completed', formatTime(media.completed_at)],
      ['expires', formatTime(media.expires_at)],
    ])}
  </section>`;
}

function stepRow(step: StepView): SafeHtml {
  return html`<tr>
    <td>${step.name}</td>
    <td><span class="status-${step.status}">${step.status}</span></td>
    <td class="num">${step.attempts}</td>
    <td>${formatTime(step.started_at)}</td>
    <td class="num">${formatDuration(step.duration_ms)}</td>
    <td class="num">${step.cost ? `${step.cost.wall_seconds.toFixed(3)} s` : '–'}</td>
    <td class="num">${step.cost ? formatBytes(step.cost.bytes_read) : '–'}</td>
    <td class="num">${step.cost ? formatBytes(step.cost.bytes_written) : '–'}</td>
  </tr>`;
}

/** Processing events as a table: the timeline's (all of them) and the callback history's (the callback step's). */
export function eventTable(events: readonly EventRecord[], className: string): SafeHtml {
  return html`<div class="table-wrap">
    <table class="${className}">
      <thead>
        <tr>
          <th>at</th>
          <th>step</th>
          <th>event</th>
          <th class="num">attempt</th>
          <th>worker</th>
          <th>class</th>
          <th>message</th>
        </tr>
      </thead>
      <tbody>
        ${events.map(eventRow)}
      </tbody>
    </table>
  </div>`;
}

function eventRow(event: EventRecord): SafeHtml {
  return html`<tr>
    <td>${formatTime(event.at)}</td>
    <td>${event.step ?? ''}</td>
    <td>${event.event}</td>
    <td class="num">${event.attempt ?? ''}</td>
    <td>${event.worker_id ?? ''}</td>
    <td>${event.error_class ? html`<span class="problem">${event.error_class}</span>` : ''}</td>
    <td class="message">${event.message ?? ''}</td>
  </tr>`;
}

export function timelineSection(
  view: ItemView,
  checklist: ChecklistRecord,
  events: readonly EventRecord[],
): SafeHtml {
  const held = checklist.worker_id
    ? html`<p>Held by ${checklist.worker_id} until ${formatTime(checklist.lease_expires_at)}.</p>`
    : '';
  return html`<section aria-labelledby="timeline-title">
    <h2 id="timeline-title">Checklist</h2>
    <p>
      State <strong>${checklist.state}</strong>; healed ${checklist.heal_count}
      time(s)${
        checklist.gave_up_at
          ? html`; failed for good at ${formatTime(checklist.gave_up_at)} (heal budget spent)`
          : ''
      }.
    </p>
    ${held}
    <div class="table-wrap">
      <table class="steps">
        <thead>
          <tr>
            <th>step</th>
            <th>status</th>
            <th class="num">attempts</th>
            <th>started</th>
            <th class="num">duration</th>
            <th class="num">wall</th>
            <th class="num">read</th>
            <th class="num">written</th>
          </tr>
        </thead>
        <tbody>
          ${view.steps.map(stepRow)}
        </tbody>
      </table>
    </div>
    <h3>Events</h3>
    ${eventTable(events, 'events')}
  </section>`;
}

/**
 * /serve answers only for a completed item (variant-lookup.ts): the variants
 * of one that is failed or being redone are listed, not shown, so the page
 * asks for no picture that would be refused.
 */
export function variantsSection(view: ItemView, mediaStatus: MediaRecord['status']): SafeHtml {
  const served = mediaStatus === 'completed';
  const figures = view.variants.map(
    (variant) =>
      html`<figure>
        ${
          served
            ? html`<img
                src="${variant.url}"
                width="${variant.width}"
                height="${variant.height}"
                alt="${variant.size} ${variant.format} (${variant.bg})"
              />`
            : ''
        }
        <figcaption>
          <strong>${variant.size}</strong> ${variant.width} × ${variant.height},
          ${formatBytes(variant.bytes)},
          ${variant.format}${variant.bg !== 'original' ? html`, background ${variant.bg}` : ''}
        </figcaption>
      </figure>`,
  );
  const note = served
    ? ''
    : html`<p class="muted">
        Not served while the item is ${mediaStatus}: /serve answers only for completed items.
      </p>`;
  return html`<section aria-labelledby="variants-title" id="variants">
    <h2 id="variants-title">Variants (${view.variants.length})</h2>
    ${note}
    ${
      view.variants.length === 0
        ? html`<p class="muted">No variants.</p>`
        : html`<div class="variants">${figures}</div>`
    }
  </section>`;
}
