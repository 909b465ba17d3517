/**
 * The column conversions every row mapper in db/ is made of: what the drivers
 * return, turned into the type the row interface declares. mysql2
 * (supportBigNumbers) and SUM/COUNT aggregates may give BIGINT and DECIMAL
 * values as strings; SQLite and MySQL give booleans as 0/1; JSON columns are
 * text. Nothing outside the mappers converts a row value.
 */

/** One reader per column of a row interface: the compiler checks that every column has one of the right type. */
export type ColumnReaders<T> = { readonly [K in keyof T]-?: (value: unknown) => T[K] };

/** A row as the driver returns it: the columns of T (or those a query selected), values not converted yet. */
export type RawRow<T, K extends keyof T = keyof T> = { readonly [P in K]: unknown };

/** A NOT NULL number column (BIGINT may arrive as a string). */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

/** A nullable number column. */
export function toNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

/** An aggregate (COUNT, SUM, MIN) that is NULL or absent over no rows: 0 then. */
export function toCount(value: unknown): number {
  return value === null || value === undefined ? 0 : toNumber(value);
}

/** A NOT NULL boolean column (0/1 on both databases). */
export function toBoolean(value: unknown): boolean {
  return Boolean(value);
}

/** A nullable boolean column. */
export function toBooleanOrNull(value: unknown): boolean | null {
  return value === null || value === undefined ? null : Boolean(value);
}

/**
 * A text column (both drivers return strings); T narrows it to the values the
 * code writes there (status, role, step state…), which the schema does not check.
 */
export function toText<T extends string = string>(value: unknown): T {
  return value as T;
}

/** A nullable text column. */
export function toTextOrNull<T extends string = string>(value: unknown): T | null {
  return value === null || value === undefined ? null : (value as T);
}

/** A JSON text column, parsed; undefined when NULL, empty or not JSON. */
export function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The columns of `raw` that `readers` knows, each converted: a whole row
 * (`select *`) or the columns a query selected (`Pick` of the row interface).
 * Columns the interface does not declare are left out.
 */
export function readColumns<T, K extends keyof T & string>(
  readers: ColumnReaders<T>,
  raw: RawRow<T, K>,
): Pick<T, K> {
  const row: Partial<Record<keyof T, unknown>> = {};
  for (const [column, value] of Object.entries(raw)) {
    if (Object.hasOwn(readers, column)) row[column as K] = readers[column as K](value);
  }
  return row as Pick<T, K>;
}
