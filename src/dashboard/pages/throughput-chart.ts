/**
 * The overview's throughput chart: one pair of bars (completed, failed) per
 * slot, as inline SVG drawn with presentation attributes only (the CSP
 * allows no style attributes), its colours from dashboard.css. Each bar has
 * a <title> with its count; the totals are also written out beside it, so
 * the chart is never the only place a number is.
 */
import type { ThroughputSlot } from '../../db/throughput-history.js';
import { formatCount } from '../format.js';
import { html, type SafeHtml } from '../html.js';

const WIDTH = 480;
const HEIGHT = 120;
const AXIS_Y = 100;
const TOP = 16;

function bar(x: number, width: number, count: number, max: number, kind: string, label: string): SafeHtml {
  const height = max === 0 ? 0 : Math.max(count > 0 ? 1 : 0, ((AXIS_Y - TOP) * count) / max);
  return html`<rect
    class="bar ${kind}"
    x="${x.toFixed(1)}"
    y="${(AXIS_Y - height).toFixed(1)}"
    width="${width.toFixed(1)}"
    height="${height.toFixed(1)}"
  >
    <title>${label}: ${formatCount(count)} ${kind}</title>
  </rect>`;
}

/** `slotMinutes` names the slots in the bars' titles ("-15 min"). */
export function throughputChart(slots: readonly ThroughputSlot[], slotMinutes: number): SafeHtml {
  const max = Math.max(0, ...slots.map((s) => Math.max(s.completed, s.failed)));
  const slotWidth = WIDTH / Math.max(1, slots.length);
  const barWidth = slotWidth * 0.4;
  const bars = slots.map((slot, i) => {
    const x = i * slotWidth + slotWidth * 0.1;
    const label = `${(slots.length - i) * slotMinutes} to ${(slots.length - i - 1) * slotMinutes} min ago`;
    return [
      bar(x, barWidth, slot.completed, max, 'completed', label),
      bar(x + barWidth, barWidth, slot.failed, max, 'failed', label),
    ];
  });
  const completed = slots.reduce((sum, s) => sum + s.completed, 0);
  const failed = slots.reduce((sum, s) => sum + s.failed, 0);
  const minutes = slots.length * slotMinutes;
  return html`<figure class="throughput">
    <svg
      class="chart"
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      role="img"
      aria-label="Items finished per ${slotMinutes} minutes over the last ${minutes} minutes: ${completed} completed, ${failed} failed"
    >
      ${bars}
      <line class="axis" x1="0" y1="${AXIS_Y}" x2="${WIDTH}" y2="${AXIS_Y}" />
      <text x="0" y="${HEIGHT - 4}">-${minutes} min</text>
      <text x="${WIDTH}" y="${HEIGHT - 4}" text-anchor="end">now</text>
      <text x="0" y="${TOP - 6}">peak ${formatCount(max)} per ${slotMinutes} min</text>
    </svg>
    <figcaption>
      Last ${minutes} min, per ${slotMinutes} min:
      <span class="key completed"
        >completed <strong data-figure="throughput.completed">${formatCount(completed)}</strong></span
      >,
      <span class="key failed"
        >failed <strong data-figure="throughput.failed">${formatCount(failed)}</strong></span
      >
    </figcaption>
  </figure>`;
}
