/**
 * What a bucket holds, read with the plain AWS SDK (not the product's
 * S3ObjectStore, so a test compares the product against an independent view):
 * every object under a prefix with its size and ETag, temp names included,
 * and each object's bytes. No kept-alive sockets: a test's leak check sees
 * none left open between requests.
 */
import http from 'node:http';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { FAKE_CREDENTIALS } from './moto-server.js';

export interface BucketObject {
  /** The key without the prefix. */
  key: string;
  size: number;
  etag: string;
}

export class BucketContents {
  readonly client: S3Client;

  constructor(
    endpoint: string,
    readonly bucket: string,
    /** '' or ending with '/'. */
    readonly prefix: string,
  ) {
    // As src/storage/s3-client.ts does: the pinned SDK's notice about future Node versions is noise here.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      endpoint,
      region: FAKE_CREDENTIALS.AWS_REGION,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { httpAgent: new http.Agent({ keepAlive: false }) },
      credentials: {
        accessKeyId: FAKE_CREDENTIALS.AWS_ACCESS_KEY_ID,
        secretAccessKey: FAKE_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
      },
    });
  }

  async createBucket(): Promise<void> {
    await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
  }

  /** Every object under the prefix (all pages), temp names included. */
  async list(): Promise<BucketObject[]> {
    const objects: BucketObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? [])
        objects.push({
          key: item.Key!.slice(this.prefix.length),
          size: item.Size ?? -1,
          etag: item.ETag ?? '',
        });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /** The object's bytes; undefined when there is no such object. */
  async read(key: string): Promise<Buffer | undefined> {
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${key}` }),
      );
      return Buffer.from(await answer.Body!.transformToByteArray());
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  close(): void {
    this.client.destroy();
  }
}
