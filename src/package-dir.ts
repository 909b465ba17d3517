/** The package's own directory (where package.json is): found by walking up from src/ in tests, dist/src/ when built. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  dir: string | undefined;
  version: string;
}

function findPackage(): PackageInfo {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(directory, 'package.json');
    if (fs.existsSync(candidate)) {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'media-worker' && pkg.version) return { dir: directory, version: pkg.version };
    }
    const parent = path.dirname(directory);
    if (parent === directory) return { dir: undefined, version: '0.0.0' };
    directory = parent;
  }
}

export const PACKAGE = findPackage();
