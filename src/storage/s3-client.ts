/**
 * The S3 client an S3ObjectStore talks through. Checksums only where an
 * operation requires them (several S3-compatible servers refuse the SDK's
 * newer default trailing checksums); credentials from the SDK's default
 * chain; region from S3_REGION, else AWS_REGION, else us-east-1, following
 * AWS's redirects when the bucket lives elsewhere.
 */
import { S3Client } from '@aws-sdk/client-s3';

export interface S3ObjectStoreOptions {
  bucket: string;
  /** '' or ending with '/'. */
  prefix: string;
  endpoint?: string | undefined;
  region?: string | undefined;
  forcePathStyle?: boolean | undefined;
  /** Where puts are spooled and withLocalFile downloads to (default: the OS temp directory). */
  scratchDir?: string | undefined;
  /** ListObjectsV2 MaxKeys (default 1000, the most S3 gives). */
  listPageSize?: number | undefined;
  /** SDK attempts per request, the first included (default 3). */
  maxAttempts?: number | undefined;
  /** Milliseconds to connect, and without data once connected (defaults 5 s, 30 s). */
  connectTimeoutMs?: number | undefined;
  requestTimeoutMs?: number | undefined;
}

export function createS3Client(options: S3ObjectStoreOptions): S3Client {
  // The pinned SDK supports Node 20; its notice that later releases will not
  // is a multi-line process warning on stderr, in a process that prints only
  // pino lines. The pin, not this notice, is what decides the upgrade.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle ?? false,
    followRegionRedirects: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? 5_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
    },
  });
}
