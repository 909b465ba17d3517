/**
 * The analysis input for a file outside the pipeline (doctor, tests,
 * benchmarks): the same decode the analyse step gets (oriented, at the scale
 * the role's largest size needs, aspect kept), so what is checked or measured
 * is what production analyses.
 */
import sharp from 'sharp';
import { decodeForSizes, type DecodeLimits } from '../images/decode-once.js';
import { sizesFor } from '../images/presets.js';
import type { Role } from '../media-roles.js';
import type { AnalysisInput } from './analysis-provider.js';

export async function analysisInputFor(
  file: string,
  role: Role,
  limits: DecodeLimits,
): Promise<AnalysisInput> {
  const { width, height } = (await sharp(file).metadata()).autoOrient;
  const image = await decodeForSizes(file, sizesFor(role, width, height), width, height, limits);
  return { image, role, original: { width, height, path: file }, removal: undefined };
}
