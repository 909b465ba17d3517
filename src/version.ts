/** The package version, read once from package.json. */
import { PACKAGE } from './package-dir.js';

export const VERSION = PACKAGE.version;
