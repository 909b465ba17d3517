/**
 * The model packages are optional dependencies: a slim install (npm ci
 * --omit=optional) works without them. This finds which are installed, with
 * versions, so start-up and `doctor` can say what will and will not be
 * analysed, and with which models under which licences.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ModelDescription } from '../analysis-provider.js';

const require = createRequire(import.meta.url);

/**
 * Where a package is installed, found along Node's module search paths
 * (resolving the package itself would depend on its "exports" conditions,
 * and some of these export no package.json).
 */
export function packageDir(name: string): string | undefined {
  for (const nodeModules of require.resolve.paths(name) ?? []) {
    const dir = path.join(nodeModules, name);
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return undefined;
}

/** Where a package this code is about to load is installed; a clear error when it is not. */
export function requiredPackageDir(name: string): string {
  const dir = packageDir(name);
  if (!dir) throw new Error(`${name} is not installed`);
  return dir;
}

/** The installed version of a package, or undefined when it is not installed. */
export function installedVersion(name: string): string | undefined {
  const dir = packageDir(name);
  if (!dir) return undefined;
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

interface ModelSpec extends Omit<ModelDescription, 'version' | 'unavailable'> {
  /** Every package the task needs; the first is the one whose version is shown. */
  packages: string[];
}

/** Objects and faces both come from @vladmandic/human on the tfjs WebAssembly backend. */
const HUMAN_PACKAGES = [
  '@vladmandic/human',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-converter',
  '@tensorflow/tfjs-backend-wasm',
];

/** Each model this provider runs: the task, the weights, where they come from, their licence. */
export const MODEL_SPECS: ModelSpec[] = [
  {
    task: 'objects (COCO labels)',
    model:
      'CenterNet MobileNetV3 (github.com/610265158/mobilenetv3_centernet, converted by @vladmandic/human)',
    package: '@vladmandic/human',
    packages: HUMAN_PACKAGES,
    licence: 'package MIT; the upstream weights state no licence of their own',
  },
  {
    task: 'faces',
    model: 'MediaPipe BlazeFace (back camera)',
    package: '@vladmandic/human',
    packages: HUMAN_PACKAGES,
    licence: 'Apache-2.0 (Google MediaPipe), package MIT',
  },
  {
    task: 'moderation',
    model: 'nsfwjs MobileNetV2 (224 px)',
    package: 'nsfwjs',
    packages: ['nsfwjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-wasm'],
    licence: 'MIT',
  },
  {
    task: 'text',
    model: 'Tesseract 5 LSTM, English (best_int)',
    package: 'tesseract.js',
    packages: ['tesseract.js', '@tesseract.js-data/eng'],
    licence: 'Apache-2.0 (tesseract.js, traineddata), package data MIT',
  },
];

export function describeModels(): ModelDescription[] {
  return MODEL_SPECS.map(({ packages, ...spec }) => {
    const missing = packages.filter((name) => installedVersion(name) === undefined);
    return {
      ...spec,
      version: installedVersion(spec.package) ?? null,
      ...(missing.length
        ? { unavailable: `not installed: ${missing.join(', ')} (optional dependencies)` }
        : {}),
    };
  });
}

/** True when every model package is installed: the default provider list then includes "models". */
export function modelsInstalled(): boolean {
  return describeModels().every((model) => !model.unavailable);
}
