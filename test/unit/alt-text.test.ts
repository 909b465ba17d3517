/** The manifest's alt text (src/manifest/alt-text.ts): the kind word per medium value, nothing invented. */
import { describe, expect, it } from 'vitest';
import { altText, type AltTextAnalysis } from '../../src/manifest/alt-text.js';

const empty: AltTextAnalysis = {
  medium_detected: null,
  subject_matter: null,
  detected_objects: undefined,
  faces: undefined,
  detected_text: undefined,
};
const withMedium = (medium: string, extra: Partial<AltTextAnalysis> = {}) =>
  altText({ ...empty, medium_detected: medium, ...extra });

describe('alt text kind word', () => {
  it('digital-or-flat-graphic is "Graphic", as drawing-or-flat-art was', () => {
    expect(withMedium('digital-or-flat-graphic')).toBe('Graphic.');
    expect(
      withMedium('digital-or-flat-graphic', { detected_objects: [{ label: 'truck', score: 0.8 }] }),
    ).toBe('Graphic: truck.');
    expect(withMedium('drawing-or-flat-art')).toBe(withMedium('digital-or-flat-graphic'));
  });

  it('painting-or-drawing is "Painting or drawing"', () => {
    expect(withMedium('painting-or-drawing')).toBe('Painting or drawing.');
    expect(withMedium('painting-or-drawing', { subject_matter: 'animals', faces: { count: 1 } })).toBe(
      'Painting or drawing: animals. 1 face.',
    );
  });

  it('unknown, an unlisted value or none adds no kind word', () => {
    expect(withMedium('unknown')).toBe('');
    expect(withMedium('unknown', { subject_matter: 'animals' })).toBe('Animals.');
    // The openai provider's finer vocabulary and anything unexpected: no word is made up for it.
    expect(withMedium('painting', { subject_matter: 'animals' })).toBe('Animals.');
    expect(withMedium('toString')).toBe('');
    expect(altText(empty)).toBe('');
  });

  it('photo and logo keep their words', () => {
    expect(withMedium('photo')).toBe('Photo.');
    expect(withMedium('logo', { detected_text: { text: 'ACME' } })).toBe("Logo. Text: 'ACME'.");
  });
});
