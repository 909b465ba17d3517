/** Durations as operators write them, for the CLI's flags and the admin API's fields alike. */
const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The pattern a duration matches (for JSON schemas too). */
export const DURATION_PATTERN = '^\\d+[smhd]$';

/** "90s", "15m", "1h", "2d" → milliseconds; undefined when it is not such a duration. */
export function parseDuration(raw: string): number | undefined {
  const match = /^(\d+)([smhd])$/.exec(raw.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * DURATION_UNITS[match[2]!]!;
  return Number.isSafeInteger(ms) ? ms : undefined;
}
