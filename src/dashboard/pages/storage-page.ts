/**
 * GET /admin/storage: storageReport (GET /api/admin/storage's report):
 * originals and variants by data type and by format, what identical
 * uploads saved, what retention removed, the local disk (or the bucket)
 * with its alert flag; the store is listed only when asked (a bucket costs
 * a request per 1,000 keys). Then the cleanup form (storage-cleanup.ts).
 */
import type { FastifyInstance } from 'fastify';
import { storageReport, type StorageReport } from '../../admin/storage-report.js';
import type { DashboardContext } from '../dashboard-context.js';
import { formatBytes, formatCount, formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { canAct, sendPage } from '../page-layout.js';
import { cleanupForm, registerStorageCleanup } from './storage-cleanup.js';

function figure(label: string, path: string, value: string): SafeHtml {
  return html`<div class="card">
    <span class="figure" data-figure="${path}">${value}</span><span class="label">${label}</span>
  </div>`;
}

function totals(report: StorageReport): SafeHtml {
  const { bulk, library } = report.byArea;
  return html`<div class="cards">
    ${figure(`files recorded, ${formatBytes(report.total.bytes)}`, 'total.files', formatCount(report.total.files))}
    ${figure(`originals, ${formatBytes(bulk.bytes)}`, 'byArea.bulk.files', formatCount(bulk.files))}
    ${figure(`variants, ${formatBytes(library.bytes)}`, 'byArea.library.files', formatCount(library.files))}
    ${figure(
      `identical uploads reused, ${formatBytes(report.dedup.bytesSaved)} not stored twice`,
      'dedup.hits',
      formatCount(report.dedup.hits),
    )}
  </div>`;
}

function byDataType(report: StorageReport): SafeHtml {
  const rows = Object.entries(report.byDataType).map(
    ([dataType, usage]) =>
      html`<tr>
        <th scope="row">${dataType}</th>
        <td class="num" data-figure="byDataType.${dataType}.bulk.files">${formatCount(usage.bulk.files)}</td>
        <td class="num">${formatBytes(usage.bulk.bytes)}</td>
        <td class="num" data-figure="byDataType.${dataType}.library.files">
          ${formatCount(usage.library.files)}
        </td>
        <td class="num">${formatBytes(usage.library.bytes)}</td>
      </tr>`,
  );
  return html`<h2>By data type</h2>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Data type</th>
            <th scope="col" class="num">Originals</th>
            <th scope="col" class="num">Bytes</th>
            <th scope="col" class="num">Variants</th>
            <th scope="col" class="num">Bytes</th>
          </tr>
        </thead>
        <tbody>
          ${
            rows.length
              ? rows
              : html`<tr>
                  <td colspan="5" class="muted">Nothing stored.</td>
                </tr>`
          }
        </tbody>
      </table>
    </div>`;
}

function byFormat(report: StorageReport): SafeHtml {
  const rows = Object.entries(report.bytesByFormat).map(
    ([format, bytes]) =>
      html`<tr>
        <th scope="row">${format}</th>
        <td class="num" data-format="${format}" data-bytes="${bytes}">${formatBytes(bytes)}</td>
      </tr>`,
  );
  return html`<h2>By format</h2>
    <p class="muted">Variants on their original background; every size exists in each format.</p>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Format</th>
            <th scope="col" class="num">Bytes</th>
          </tr>
        </thead>
        <tbody>
          ${
            rows.length
              ? rows
              : html`<tr>
                  <td colspan="2" class="muted">No variants.</td>
                </tr>`
          }
        </tbody>
      </table>
    </div>
    <p>
      Saved against JPEG: AVIF ${formatBytes(report.savedVsJpeg.avif)}, WebP
      ${formatBytes(report.savedVsJpeg.webp)}.
    </p>`;
}

function retention(report: StorageReport): SafeHtml {
  const { itemsDeleted, originalsRemoved, perDay, lastCleanup } = report.retention;
  return html`<h2>Removed by retention and cleanup</h2>
    <dl class="facts">
      <dt>Items deleted</dt>
      <dd data-figure="retention.itemsDeleted.total">
        ${formatCount(itemsDeleted.total)} (last day ${formatCount(itemsDeleted.lastDay)}, last week
        ${formatCount(itemsDeleted.lastWeek)}; ${perDay.itemsDeleted} a day)
      </dd>
      <dt>Originals removed</dt>
      <dd data-figure="retention.originalsRemoved.total">
        ${formatCount(originalsRemoved.total)} (last day ${formatCount(originalsRemoved.lastDay)}, last week
        ${formatCount(originalsRemoved.lastWeek)}; ${perDay.originalsRemoved} a day)
      </dd>
      <dt>Last cleanup</dt>
      <dd>
        ${
          lastCleanup
            ? html`${formatTime(lastCleanup.at)} by ${lastCleanup.actor} (${lastCleanup.outcome}):
              ${lastCleanup.detail ?? ''}`
            : html`<span class="muted">never</span>`
        }
      </dd>
    </dl>`;
}

function diskAndStore(report: StorageReport): SafeHtml {
  const { disk, bucket, store } = report;
  const diskText = disk
    ? html`<span data-figure="disk.usedPercent">${disk.usedPercent}%</span> used of
        ${formatBytes(disk.totalBytes)} (${formatBytes(disk.freeBytes)} free) on ${disk.directory}; the alert
        is at ${disk.alertPercent}%.
        ${
          disk.alert
            ? html`<strong class="problem" data-figure="disk.alert">Above the alert threshold.</strong>`
            : html`<span class="status-completed">Below the alert threshold.</span>`
        }`
    : html`<span class="problem">${report.unknown.disk ?? 'not readable'}</span>`;
  const storeText = store
    ? html`${store.location}: originals ${formatCount(store.bulk.objects)} files
        (${formatBytes(store.bulk.bytes)}), variants
        <span data-figure="store.library.objects">${formatCount(store.library.objects)}</span> files
        (${formatBytes(store.library.bytes)})`
    : html`<a href="/admin/storage?store=true">Count the files in the store</a>
        <span class="muted">(lists every object: on a bucket, a request per 1,000)</span>`;
  return html`<h2>Disk and store</h2>
    <dl class="facts">
      <dt>Local disk</dt>
      <dd>${diskText}</dd>
      ${
        bucket
          ? html`<dt>Bucket</dt>
              <dd>${bucket.location}: ${report.unknown.bucket ?? ''}</dd>`
          : ''
      }
      <dt>Files in the store</dt>
      <dd>${storeText}</dd>
    </dl>`;
}

export function registerStoragePages(app: FastifyInstance, context: DashboardContext): void {
  app.get<{ Querystring: { store?: string } }>('/admin/storage', async (request, reply) => {
    const report = await storageReport(context.admin, request.query.store === 'true');
    const session = request.dashboardSession!;
    const body = html`<h1>Storage</h1>
      ${totals(report)} ${diskAndStore(report)} ${byDataType(report)} ${byFormat(report)} ${retention(report)}
      <h2>Cleanup</h2>
      <p>
        Retention (items past their expiry, originals past the retention period) and orphans (files no row
        points at, completed items whose files vanished), as <code>media-worker cleanup</code> and its daily
        timer run it. A dry run shows what would be removed and changes nothing.
      </p>
      ${canAct(session) ? cleanupForm(session) : html`<p class="muted">A read-only key cannot run a cleanup.</p>`}`;
    return sendPage(request, reply, context.layout, { title: 'Storage', nav: '/admin/storage', body });
  });
  registerStorageCleanup(app, context);
}
