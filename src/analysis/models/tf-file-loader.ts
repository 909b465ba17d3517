/**
 * tfjs loads models by URL and, without tfjs-node (whose install downloads
 * binaries), has no file:// handler: this load router reads model.json and
 * its weight files from disk, so every model comes from node_modules and
 * nothing is ever fetched.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TfCore from '@tensorflow/tfjs-core';

interface ModelJson {
  modelTopology: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  modelInitializer?: unknown;
  weightsManifest: { paths: string[]; weights: TfCore.io.WeightsManifestEntry[] }[];
}

/** A Buffer's bytes as an ArrayBuffer of their own (a Buffer may be a view into a larger pooled one). */
export function ownArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function readModelArtifacts(jsonPath: string): TfCore.io.ModelArtifacts {
  const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as ModelJson;
  const directory = path.dirname(jsonPath);
  const weights = Buffer.concat(
    json.weightsManifest.flatMap((group) =>
      group.paths.map((file) => readFileSync(path.join(directory, file))),
    ),
  );
  return {
    modelTopology: json.modelTopology as TfCore.io.ModelArtifacts['modelTopology'],
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature as TfCore.io.ModelArtifacts['signature'],
    userDefinedMetadata: json.userDefinedMetadata as TfCore.io.ModelArtifacts['userDefinedMetadata'],
    modelInitializer: json.modelInitializer as TfCore.io.ModelArtifacts['modelInitializer'],
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: ownArrayBuffer(weights),
  };
}

export function registerFileLoader(tf: typeof TfCore): void {
  // A router answers null for URLs it does not handle (the declared type omits it).
  const router = (url: string | string[]) =>
    typeof url === 'string' && url.startsWith('file://')
      ? { load: () => Promise.resolve(readModelArtifacts(fileURLToPath(url))) }
      : null;
  tf.io.registerLoadRouter(router as Parameters<typeof tf.io.registerLoadRouter>[0]);
}
