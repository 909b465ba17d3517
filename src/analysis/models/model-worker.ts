/**
 * Worker-thread entry for the tfjs models (WebAssembly backend): objects and
 * faces with @vladmandic/human (CenterNet, BlazeFace), moderation with the
 * nsfwjs MobileNetV2 weights. Loaded on the first request, once per process;
 * each model loads on its own, so one missing package costs only its task.
 * Every tensor a request makes is disposed before the answer goes back.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import type * as TfCore from '@tensorflow/tfjs-core';
import { serveThreadRequests } from '../../threads/thread-client.js';
import { requiredPackageDir as packageDir } from './model-packages.js';
import { ownArrayBuffer, registerFileLoader } from './tf-file-loader.js';
import type { Box, ModelRequest, ModelResult, ModelStatus } from './model-protocol.js';

const require = createRequire(import.meta.url);

interface HumanBox {
  score: number;
  label?: string;
  boxRaw: Box;
}
interface HumanInstance {
  load(): Promise<void>;
  detect(input: TfCore.Tensor): Promise<{ object: HumanBox[]; face: HumanBox[]; error?: string | null }>;
}
interface LayersModel {
  predict(input: TfCore.Tensor): TfCore.Tensor;
}

const NSFW_CLASSES = ['drawing', 'hentai', 'neutral', 'porn', 'sexy'] as const;

let loading: Promise<Loaded> | undefined;
interface Loaded {
  tf: typeof TfCore;
  human: HumanInstance | undefined;
  nsfw: LayersModel | undefined;
  status: ModelStatus;
}

async function loadBackend(): Promise<typeof TfCore> {
  const tf = require('@tensorflow/tfjs-core') as typeof TfCore;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(prefix: string): void };
  wasm.setWasmPaths(`${path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist')}/`);
  registerFileLoader(tf);
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs WebAssembly backend did not start');
  await tf.ready();
  return tf;
}

async function loadHuman(): Promise<HumanInstance> {
  const root = packageDir('@vladmandic/human');
  const { Human } = require(path.join(root, 'dist', 'human.node-wasm.js')) as {
    Human: new (config: unknown) => HumanInstance;
  };
  const human = new Human({
    backend: 'wasm',
    wasmPath: `${path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist')}/`,
    modelBasePath: `${pathToFileURL(path.join(root, 'models')).href}/`,
    debug: false,
    async: true,
    warmup: 'none',
    cacheSensitivity: 0,
    filter: { enabled: false },
    face: {
      enabled: true,
      detector: { enabled: true, rotation: false, maxDetected: 20, minConfidence: 0.6, return: false },
      mesh: { enabled: false },
      iris: { enabled: false },
      description: { enabled: false },
      emotion: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
    object: { enabled: true, modelPath: 'centernet.json', minConfidence: 0.3, maxDetected: 10 },
  });
  await human.load();
  return human;
}

/** nsfwjs ships its weights as base64 inside a UMD .js file; evaluating that costs ~7 s, reading the string out costs ms. */
async function loadNsfw(tf: typeof TfCore): Promise<LayersModel> {
  const layers = require('@tensorflow/tfjs-layers') as {
    loadLayersModel(handler: TfCore.io.IOHandler): Promise<LayersModel>;
  };
  const models = path.join(packageDir('nsfwjs'), 'dist', 'models', 'mobilenet_v2');
  const json = require(path.join(models, 'model.min.js')) as {
    modelTopology: TfCore.io.ModelArtifacts['modelTopology'];
    weightsManifest: { weights: TfCore.io.WeightsManifestEntry[] }[];
  };
  const shard = readFileSync(path.join(models, 'group1-shard1of1.min.js'), 'utf8');
  const base64 = /exports="([A-Za-z0-9+/=]+)"/.exec(shard)?.[1];
  if (!base64)
    throw new Error('nsfwjs weights not found in group1-shard1of1.min.js (package layout changed?)');
  const weights = Buffer.from(base64, 'base64');
  return layers.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightData: ownArrayBuffer(weights),
    }),
  );
}

async function timed<T>(load: () => Promise<T>): Promise<{ value?: T; ms: number; error?: string }> {
  const started = performance.now();
  try {
    return { value: await load(), ms: Math.round(performance.now() - started) };
  } catch (error) {
    return { ms: Math.round(performance.now() - started), error: (error as Error).message };
  }
}

async function loadAll(): Promise<Loaded> {
  const backend = await timed(loadBackend);
  if (!backend.value) throw new Error(`tfjs WebAssembly backend: ${backend.error}`);
  const tf = backend.value;
  const human = await timed(loadHuman);
  const nsfw = await timed(() => loadNsfw(tf));
  return {
    tf,
    human: human.value,
    nsfw: nsfw.value,
    status: {
      backendMs: backend.ms,
      detector: human.value
        ? { loaded: true, ms: human.ms }
        : { loaded: false, ms: human.ms, error: human.error! },
      moderation: nsfw.value
        ? { loaded: true, ms: nsfw.ms }
        : { loaded: false, ms: nsfw.ms, error: nsfw.error! },
    },
  };
}

async function detect(loaded: Loaded, image: ModelRequest['detect']) {
  if (!loaded.human) return undefined;
  const { tf } = loaded;
  const input = tf.tidy(() =>
    tf.expandDims(tf.tensor3d(image.data, [image.height, image.width, 3], 'int32'), 0),
  );
  try {
    const result = await loaded.human.detect(input);
    if (result.error) throw new Error(`human: ${result.error}`);
    const round = (box: Box): Box => box.map((v) => Number(v.toFixed(4))) as Box;
    return {
      objects: result.object.map((o) => ({
        label: o.label ?? 'unknown',
        score: Number(o.score.toFixed(3)),
        box: round(o.boxRaw),
      })),
      faces: result.face.map((f) => ({ score: Number(f.score.toFixed(3)), box: round(f.boxRaw) })),
    };
  } finally {
    tf.dispose(input);
  }
}

async function classify(loaded: Loaded, image: ModelRequest['classify']) {
  if (!loaded.nsfw) return undefined;
  const { tf, nsfw } = loaded;
  const output = tf.tidy(() => {
    const pixels = Float32Array.from(image.data, (v) => v / 255);
    return nsfw.predict(tf.tensor4d(pixels, [1, image.height, image.width, 3]));
  });
  const scores = await output.data();
  tf.dispose(output);
  return Object.fromEntries(NSFW_CLASSES.map((name, i) => [name, Number(scores[i]!.toFixed(4))]));
}

serveThreadRequests<ModelRequest, ModelResult>(parentPort, async (request) => {
  loading ??= loadAll();
  const loaded = await loading;
  const started = performance.now();
  const detections = await detect(loaded, request.detect);
  const moderation = await classify(loaded, request.classify);
  return {
    result: {
      status: loaded.status,
      objects: detections?.objects,
      faces: detections?.faces,
      moderation,
      inferenceMs: Math.round(performance.now() - started),
      tensors: loaded.tf.memory().numTensors,
    },
  };
});
