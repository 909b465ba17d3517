/**
 * The analysis input for a file outside the pipeline (doctor, tests,
 * benchmarks): the same decode the analyse step gets (oriented, at the scale
 * the role's largest eagerly made size needs, aspect kept; ON_DEMAND_SIZES
 * at its default unless told), so what is checked or measured is what
 * production analyses.
 */
import sharp from 'sharp';
import { decodeForSizes, type DecodeLimits } from '../images/decode-once.js';
import { DEFAULT_ON_DEMAND_SIZES, eagerSizesFor, parseOnDemandSizes } from '../images/on-demand-sizes.js';
import { sizesFor, type SizeName } from '../images/presets.js';
import type { Role } from '../media-roles.js';
import type { AnalysisInput } from './analysis-provider.js';

export async function analysisInputFor(
  file: string,
  role: Role,
  limits: DecodeLimits,
  onDemandSizes: readonly SizeName[] = parseOnDemandSizes(DEFAULT_ON_DEMAND_SIZES),
): Promise<AnalysisInput> {
  const { width, height } = (await sharp(file).metadata()).autoOrient;
  const sizes = eagerSizesFor(role, width, height, onDemandSizes);
  const image = await decodeForSizes(file, sizes, width, height, limits, sizesFor(role, width, height));
  return { image, role, original: { width, height, path: file }, removal: undefined };
}
