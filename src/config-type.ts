/**
 * The validated, frozen settings type, derived from the option table
 * (config-options.ts): a setting's type is what its parser returns, and
 * `| undefined` only for the settings the table marks optional. Adding a
 * row to the table is all it takes; nothing repeats it by hand.
 */
import type { OPTIONS } from './config-options.js';

type Row = (typeof OPTIONS)[number];

type ValueOf<R> = R extends { parse: (raw: string) => infer T; required: infer Required }
  ? Required extends true
    ? T
    : T | undefined
  : never;

/** The validated, frozen settings every part of the daemon is handed a slice of. */
export type Config = { readonly [R in Row as R['key']]: ValueOf<R> };
