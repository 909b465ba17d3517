/**
 * Where a site image probably belongs, from geometry and detail: very wide
 * images are banners; large, calm images are backgrounds; the rest is
 * content. Each guess carries its reasons and a confidence.
 */
export interface SiteContext {
  placement: 'banner' | 'background' | 'content';
  aspectRatio: number;
  confidence: number;
  reasons: string[];
}

export function siteContext(width: number, height: number, sharpness: number): SiteContext {
  const aspectRatio = Number((width / height).toFixed(3));
  if (aspectRatio >= 2.2) {
    return {
      placement: 'banner',
      aspectRatio,
      confidence: aspectRatio >= 3 ? 0.9 : 0.7,
      reasons: [`wide aspect ratio ${aspectRatio}:1`],
    };
  }
  if (width >= 1600 && sharpness < 45) {
    return {
      placement: 'background',
      aspectRatio,
      confidence: 0.6,
      reasons: [`large (${width}px wide)`, `low detail (sharpness ${sharpness.toFixed(0)}/100)`],
    };
  }
  return {
    placement: 'content',
    aspectRatio,
    confidence: 0.5,
    reasons: ['neither banner-shaped nor a large low-detail image'],
  };
}
