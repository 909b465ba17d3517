/** npm run bench [-- name]: runs one benchmark, or all of them. Results land in bench/results/. */
import { benchAnalysis, benchAnalysisMedium } from './analysis.js';
import { benchClaim } from './claim.js';
import { benchEncoders } from './encoders.js';
import { benchEagerOutputs } from './eager-outputs.js';
import { benchEndToEnd } from './end-to-end.js';
import { benchMemory } from './memory.js';
import { benchPipeline } from './pipeline.js';
import { benchServe } from './serve.js';

const BENCHES: Record<string, () => Promise<void>> = {
  analysis: benchAnalysis,
  'analysis-medium': benchAnalysisMedium,
  claim: benchClaim,
  encoders: benchEncoders,
  'eager-outputs': benchEagerOutputs,
  'end-to-end': benchEndToEnd,
  memory: benchMemory,
  pipeline: benchPipeline,
  serve: benchServe,
};

const name = process.argv[2];
if (name && !BENCHES[name]) {
  console.error(`unknown benchmark "${name}"; choose one of: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
for (const [benchName, bench] of Object.entries(BENCHES)) {
  if (name && name !== benchName) continue;
  console.log(`\n# bench ${benchName}\n`);
  await bench();
}
