import { describe, expect, it } from 'vitest';
import { parsePendingList } from '../../src/intake/pending-uploads.js';
import { parseUploadName, tempFileUrl } from '../../src/intake/temp-path.js';

const BASE = 'https://api.example.org';

describe('tempFileUrl', () => {
  it('accepts same-origin /temp_images/ paths', () => {
    expect(tempFileUrl(BASE, '/temp_images/profiles/456-profile-1704110400-987654321.jpg')).toBe(
      `${BASE}/temp_images/profiles/456-profile-1704110400-987654321.jpg`,
    );
  });
  it.each([
    ['an absolute URL', 'https://evil.example.org/temp_images/x.jpg', /must be a \/temp_images\/… path/],
    ['a protocol-relative URL', '//evil.example.org/temp_images/x.jpg', /must be a \/temp_images\/… path/],
    ['another path', '/etc/passwd', /must be a \/temp_images\/… path/],
    ['dot-dot', '/temp_images/../etc/passwd', /tries to leave/],
    ['encoded dot-dot', '/temp_images/%2e%2e/etc/passwd', /tries to leave/],
    ['double-encoded dot-dot', '/temp_images/%252e%252e/etc/passwd', /tries to leave/],
    ['an encoded slash pair', '/temp_images/%2f%2fevil.example.org/x', /tries to leave/],
    ['a backslash', '/temp_images/..\\\\x.jpg', /tries to leave/],
    ['a malformed escape', '/temp_images/%zz.jpg', /malformed percent-escape/],
  ])('refuses %s as INVALID_INPUT', (_name, path, message) => {
    expect(() => tempFileUrl(BASE, path)).toThrow(message);
  });
});

describe('parseUploadName', () => {
  it('reads the role from {userId}-{type}-{timestamp}[-{random}].{ext}', () => {
    expect(parseUploadName('/temp_images/x/456-header-1704110400-987.jpg')).toEqual({
      userId: 456,
      type: 'header',
      role: 'header',
    });
    expect(parseUploadName('/temp_images/x/12-sites-1704110400.png')).toEqual({
      userId: 12,
      type: 'sites',
      role: 'site',
    });
    expect(parseUploadName('/temp_images/x/12-banner-1704110400.png').role).toBeUndefined();
  });
});

describe('parsePendingList', () => {
  it('keeps entries with a usable id (bad paths included, to be failed visibly), skips the rest', () => {
    const list = parsePendingList({
      images: [
        { id: 1, user_id: 4, image_path: '/temp_images/a/4-logo-1.png', original_name: null, extra: [1, 2] },
        { id: '2', image_path: '/temp_images/a/4-event-1.jpg' },
        { image_path: '/temp_images/a/x.jpg' },
        { id: 3 },
        { id: 4, image_path: 'http://elsewhere/temp_images/x.jpg' },
        'nonsense',
        null,
        { id: -1 },
      ],
      total: 8,
    });
    expect(list.uploads.map((u) => u.id)).toEqual([1, 2, 3, 4]);
    expect(list.uploads[0]).toEqual({
      id: 1,
      userId: 4,
      imagePath: '/temp_images/a/4-logo-1.png',
      originalName: undefined,
      mimeType: undefined,
    });
    expect(list.uploads[2]!.imagePath).toBe('');
    expect(list.uploads[3]!.imagePath).toBe('http://elsewhere/temp_images/x.jpg');
    // Counted, with a few examples only: a list of 200,000 bad entries must not make 200,000 log lines.
    expect(list.skipped.count).toBe(4);
    expect(list.skipped.examples.map((s) => s.reason)).toEqual([
      'no valid id',
      'not an object',
      'not an object',
    ]);
  });
  it('refuses a body without an images array', () => {
    expect(parsePendingList({ images: [], total: 3 }).uploads).toEqual([]);
    expect(() => parsePendingList({ nope: true })).toThrow(/no "images" array/);
  });
});
