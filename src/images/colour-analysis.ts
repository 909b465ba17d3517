/**
 * Colour statistics from a small sample (≤ 64 px, made by libvips): a
 * palette by quantised histogram with merging of near colours, mood words from
 * saturation/lightness/hue, and a logo's brand colours (background excluded).
 */
export interface PaletteColour {
  hex: string;
  share: number;
}

export interface Sample {
  data: Uint8Array;
  channels: number;
  /** Pixels to leave out (transparent, or the removed background). */
  exclude?: (pixelIndex: number) => boolean;
}

function toHex(r: number, g: number, b: number): string {
  return `#${[r, g, b].map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
}

interface Bucket {
  count: number;
  r: number;
  g: number;
  b: number;
}

/** Colours closer than this (RGB Euclidean) merge into one palette entry. */
const MERGE_DISTANCE = 48;

export function palette(sample: Sample, maxColours: number): PaletteColour[] {
  const buckets = new Map<number, Bucket>();
  let total = 0;
  const pixels = sample.data.length / sample.channels;
  for (let i = 0; i < pixels; i++) {
    const o = i * sample.channels;
    if (sample.channels === 4 && sample.data[o + 3]! < 128) continue;
    if (sample.exclude?.(i)) continue;
    const [r, g, b] = [sample.data[o]!, sample.data[o + 1]!, sample.data[o + 2]!];
    const key = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    const bucket = buckets.get(key) ?? { count: 0, r: 0, g: 0, b: 0 };
    bucket.count++;
    bucket.r += r;
    bucket.g += g;
    bucket.b += b;
    buckets.set(key, bucket);
    total++;
  }
  const colours = [...buckets.values()].map((b) => ({
    count: b.count,
    r: b.r / b.count,
    g: b.g / b.count,
    b: b.b / b.count,
  }));
  colours.sort((a, b) => b.count - a.count);
  const merged: Bucket[] = [];
  for (const colour of colours) {
    const near = merged.find(
      (m) => Math.hypot(m.r - colour.r, m.g - colour.g, m.b - colour.b) < MERGE_DISTANCE,
    );
    if (near) near.count += colour.count;
    else merged.push({ ...colour });
  }
  merged.sort((a, b) => b.count - a.count);
  return merged
    .slice(0, maxColours)
    .map((c) => ({ hex: toHex(c.r, c.g, c.b), share: Number((c.count / Math.max(1, total)).toFixed(3)) }));
}

export interface ColourStats {
  meanSaturation: number;
  meanLightness: number;
  lightnessSpread: number;
  warmShare: number;
  coolShare: number;
}

export function colourStats(sample: Sample): ColourStats {
  let n = 0;
  let saturation = 0;
  let lightness = 0;
  let lightnessSquares = 0;
  let warm = 0;
  let cool = 0;
  for (let o = 0; o < sample.data.length; o += sample.channels) {
    if (sample.channels === 4 && sample.data[o + 3]! < 128) continue;
    const r = sample.data[o]! / 255;
    const g = sample.data[o + 1]! / 255;
    const b = sample.data[o + 2]! / 255;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const l = (max + min) / 2;
    const s = max === min ? 0 : (max - min) / (1 - Math.abs(2 * l - 1));
    n++;
    saturation += s;
    lightness += l;
    lightnessSquares += l * l;
    if (s > 0.15) {
      const hue = hueOf(r, g, b, max, min);
      if (hue < 70 || hue >= 330) warm++;
      else if (hue >= 160 && hue < 280) cool++;
    }
  }
  const count = Math.max(1, n);
  const meanLightness = lightness / count;
  return {
    meanSaturation: saturation / count,
    meanLightness,
    lightnessSpread: Math.sqrt(Math.max(0, lightnessSquares / count - meanLightness * meanLightness)),
    warmShare: warm / count,
    coolShare: cool / count,
  };
}

function hueOf(r: number, g: number, b: number, max: number, min: number): number {
  const d = max - min;
  const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

/** Plain words from colour statistics; each rule is a threshold on one statistic. */
export function moodKeywords(stats: ColourStats): string[] {
  const words: string[] = [];
  if (stats.meanSaturation > 0.45) words.push('vibrant');
  else if (stats.meanSaturation < 0.18) words.push('muted');
  if (stats.meanLightness < 0.3) words.push('dark');
  else if (stats.meanLightness > 0.7) words.push('bright');
  if (stats.warmShare > 0.4 && stats.warmShare > stats.coolShare * 2) words.push('warm');
  else if (stats.coolShare > 0.4 && stats.coolShare > stats.warmShare * 2) words.push('cool');
  if (stats.lightnessSpread > 0.28) words.push('high-contrast');
  else if (stats.lightnessSpread < 0.1) words.push('soft');
  if (stats.meanSaturation < 0.05) words.push('monochrome');
  return words;
}
