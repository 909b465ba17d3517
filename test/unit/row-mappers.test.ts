/** The db/ row mappers: driver values (BIGINT strings, 0/1 booleans, JSON text) become the declared types. */
import { describe, expect, it } from 'vitest';
import { toAnalysisRecord } from '../../src/db/analysis-rows.js';
import { toEventRecord } from '../../src/db/item-detail.js';
import { stepState, stepStates, toChecklistRecord, toMediaRecord } from '../../src/db/records.js';
import { STEP_COLUMN, STEP_NAMES, attemptsColumn } from '../../src/db/step-columns.js';
import { toTimedVariantRow, toVariantRecord, toVariantRow } from '../../src/db/variant-rows.js';

/** A media_files row as mysql2 returns it with supportBigNumbers: BIGINTs as strings, booleans as 0/1. */
const MYSQL_MEDIA = {
  id: '42',
  main_api_id: '9007199254740',
  source: 'main_api',
  source_path: '/temp_images/profiles/7-profile-1.jpg',
  user_id: '7',
  role: 'profile',
  data_type: 'profile',
  original_name: null,
  declared_mime_type: 'image/jpeg',
  mime_type: 'image/jpeg',
  file_size: '123456',
  sha256: 'ab'.repeat(32),
  width: 640,
  height: 480,
  has_alpha: 0,
  bulk_path: 'bulk/2026-01-01/42.jpg',
  library_path: null,
  status: 'completed',
  is_test_data: 1,
  expires_at: null,
  created_at: '1767225600000',
  updated_at: '1767225600500',
  completed_at: '1767225600400',
  deleted_at: null,
  duplicate_of: null,
  thumbhash: '1QcSHQRnh493V4dIh4eXh1h4kJUI',
  callback_result: 'accepted',
  callback_reported_at: '1767225600450',
  callback_resends: 2,
  callback_resent_at: null,
  failure_reported_at: null,
  failure_report_claimed_at: null,
};

describe('media_files mapper', () => {
  it('converts a whole row', () => {
    expect(toMediaRecord(MYSQL_MEDIA)).toEqual({
      ...MYSQL_MEDIA,
      id: 42,
      main_api_id: 9007199254740,
      user_id: 7,
      file_size: 123456,
      has_alpha: false,
      is_test_data: true,
      created_at: 1767225600000,
      updated_at: 1767225600500,
      completed_at: 1767225600400,
      callback_reported_at: 1767225600450,
    });
  });

  it('converts only the columns a query selected, and leaves undeclared ones out', () => {
    const row = toMediaRecord({ id: '5', bulk_path: null, has_alpha: null });
    expect(row).toEqual({ id: 5, bulk_path: null, has_alpha: null });
    expect(toMediaRecord({ id: 5, extra: 'x' } as { id: unknown })).toEqual({ id: 5 });
  });
});

describe('processing_checklist mapper', () => {
  const raw: Record<string, unknown> = {
    media_id: '42',
    state: 'queued',
    worker_id: null,
    claim_token: null,
    taken_over_from: null,
    lease_expires_at: null,
    next_attempt_at: '1767225600000',
    last_error: null,
    last_error_class: null,
    failed_step: null,
    failed_at: null,
    heal_count: '3',
    gave_up_at: null,
    created_at: '1767225600000',
    updated_at: 1767225600001,
  };
  const statuses = ['completed', 'skipped', 'failed', 'pending'] as const;
  STEP_NAMES.forEach((step, i) => {
    raw[STEP_COLUMN[step]] = statuses[i];
    raw[attemptsColumn(step)] = String(i + 1);
  });

  it("types every step's columns, under step-columns.ts's names", () => {
    const checklist = toChecklistRecord(raw as Parameters<typeof toChecklistRecord>[0]);
    expect(checklist).toMatchObject({ media_id: 42, heal_count: 3, next_attempt_at: 1767225600000 });
    expect(stepStates(checklist)).toEqual(
      STEP_NAMES.map((step, i) => ({ step, status: statuses[i], attempts: i + 1 })),
    );
    expect(stepState(checklist, 'resize')).toEqual({ step: 'resize', status: 'failed', attempts: 3 });
    expect(checklist.resize_optimize_attempts).toBe(3);
  });
});

describe('media_variants, processing_events and media_ai_analysis mappers', () => {
  const variant = {
    size: 'thumbnail',
    format: 'avif',
    bg: 'original',
    width: 300,
    height: 300,
    bytes: '5120',
    path: 'library/user_7/profile/img/42-thumbnail.avif',
    etag: '"abc"',
  };

  it('reads variants: the column list, optionally created_at, or any selected columns', () => {
    expect(toVariantRow({ ...variant, created_at: '1' } as typeof variant)).toEqual({
      ...variant,
      bytes: 5120,
    });
    expect(toTimedVariantRow({ ...variant, created_at: '1767225600000' })).toEqual({
      ...variant,
      bytes: 5120,
      createdAt: 1767225600000,
    });
    expect(toVariantRecord({ media_id: '42', path: 'p' })).toEqual({ media_id: 42, path: 'p' });
  });

  it('reads events', () => {
    expect(
      toEventRecord({
        id: '9',
        media_id: '42',
        step: 'retrieve',
        event: 'started',
        attempt: 1,
        worker_id: 'w1',
        error_class: null,
        message: null,
        cost: null,
        at: '1767225600000',
      }),
    ).toEqual({
      id: 9,
      media_id: 42,
      step: 'retrieve',
      event: 'started',
      attempt: 1,
      worker_id: 'w1',
      error_class: null,
      message: null,
      cost: null,
      at: 1767225600000,
    });
  });

  it("reads an event's cost: JSON parsed, a column that is not a cost read as none", () => {
    const cost = {
      wall_seconds: 0.25,
      cpu_seconds: null,
      bytes_read: 100,
      bytes_written: 0,
      provider_calls: [{ provider: 'local', outcome: 'ok', duration_ms: 12, reported: { fields: 3 } }],
    };
    const event = { id: 1, media_id: 2, step: 'analyse', event: 'completed', attempt: 1 };
    const read = (value: unknown) =>
      toEventRecord({ ...event, worker_id: null, error_class: null, message: null, cost: value, at: 0 }).cost;
    expect(read(JSON.stringify(cost))).toEqual(cost);
    expect(read(JSON.stringify({ ...cost, cpu_seconds: 0.5, bytes_written: -1 }))).toEqual({
      ...cost,
      cpu_seconds: 0.5,
      bytes_written: 0,
    });
    for (const notACost of [null, '', 'not json', '[]', '{"bytes_read":5}'])
      expect(read(notACost)).toBeNull();
  });

  it('reads an analysis row: JSON parsed once, raw_responses left out', () => {
    const record = toAnalysisRecord({
      media_id: '42',
      style_classification: 'photo',
      medium_detected: null,
      subject_matter: 'a cat',
      quality_score: 81,
      confidence_score: 0.72,
      mood_keywords: '["calm"]',
      dominant_colors: '[{"hex":"#112233","share":0.5}]',
      detected_objects: null,
      detected_text: 'not json',
      faces: '{"count":0,"boxes":[]}',
      moderation: null,
      brand_colors: null,
      site_context: null,
      exif_summary: '{"camera":"x"}',
      field_sources: '{}',
      flagged: 0,
      ai_enhanced: 1,
      placeholder_hash: null,
      perceptual_hash: 'ffff0000ffff0000',
      provider: 'local,models',
      provider_version: '0.1.0',
      caption: 'A tabby cat on a rug.',
      alt_text: null,
      quality_assessment: '{"score":70,"verdict":"good","reasons":["sharp"]}',
      created_at: '1767225600000',
      updated_at: '1767225600000',
      raw_responses: '{"local":{}}',
    } as Parameters<typeof toAnalysisRecord>[0]);
    expect(record).toMatchObject({
      media_id: 42,
      mood_keywords: ['calm'],
      dominant_colors: [{ hex: '#112233', share: 0.5 }],
      detected_objects: undefined,
      detected_text: undefined,
      faces: { count: 0, boxes: [] },
      flagged: false,
      ai_enhanced: true,
      caption: 'A tabby cat on a rug.',
      alt_text: null,
      quality_assessment: { score: 70, verdict: 'good', reasons: ['sharp'] },
      created_at: 1767225600000,
    });
    expect(record).not.toHaveProperty('raw_responses');
  });
});
