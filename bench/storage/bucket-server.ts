/**
 * moto_server (Python moto, test/helpers/moto-server.ts) as the bench's S3:
 * one server for the whole storage bench, a fresh bucket per measurement,
 * and the settings a `media-worker` process needs to use one.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { FAKE_CREDENTIALS, motoCommand, startMotoServer } from '../../test/helpers/moto-server.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { findPids, totalCpuMs } from '../lib/process-cpu.js';

export interface BucketServer {
  endpoint: string;
  /** CPU ms moto has used so far (all its processes). */
  cpuMs(): number;
  /** Creates `bucket` and answers an S3ObjectStore on it (prefix media/, as a deployment would use). */
  createBucket(bucket: string, scratchDir: string): Promise<S3ObjectStore>;
  /** STORAGE_URL, S3_ENDPOINT and credentials for a media-worker process using `bucket`. */
  env(bucket: string): Record<string, string>;
  stop(): Promise<void>;
}

export async function startBucketServer(): Promise<BucketServer> {
  const command = motoCommand();
  if (!command) throw new Error('bench storage needs moto: pip install "moto[server]"');
  for (const [name, value] of Object.entries(FAKE_CREDENTIALS)) process.env[name] = value;
  const moto = await startMotoServer(command);
  const pids = findPids(['-p', String(moto.port), 'moto']);
  const stores: S3ObjectStore[] = [];
  return {
    endpoint: moto.endpoint,
    cpuMs: () => totalCpuMs(pids),
    async createBucket(bucket, scratchDir) {
      const store = new S3ObjectStore({
        bucket,
        prefix: 'media/',
        endpoint: moto.endpoint,
        forcePathStyle: true,
        scratchDir,
      });
      stores.push(store);
      await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
      return store;
    },
    env: (bucket) => ({
      STORAGE_URL: `s3://${bucket}/media`,
      S3_ENDPOINT: moto.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      ...FAKE_CREDENTIALS,
    }),
    async stop() {
      for (const store of stores) await store.close();
      await moto.stop();
    },
  };
}
