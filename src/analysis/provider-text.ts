/**
 * Text a paid provider answered, as data: control characters (other than
 * newlines and tabs, when kept) become spaces, the ends are trimmed and the
 * length capped, so a model's or a service's words can neither break a log
 * line nor grow a column. Undefined for anything that is not a non-empty string.
 */
export function dataText(value: unknown, max: number, keepNewlines = true): string | undefined {
  if (typeof value !== 'string') return undefined;
  let text = '';
  for (const char of value.slice(0, max * 2)) {
    const code = char.codePointAt(0)!;
    const kept = keepNewlines && (code === 0x0a || code === 0x09);
    text += (code < 0x20 && !kept) || code === 0x7f ? ' ' : char;
  }
  text = text.trim();
  return text === '' ? undefined : text.slice(0, max);
}
