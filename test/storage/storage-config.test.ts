/** STORAGE_URL, STORAGE_DIR and the S3 settings: parsing, the rules between them, and the store they name. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { boolean } from '../../src/config-parsers.js';
import { UsageError } from '../../src/errors.js';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { objectStoreFor, storageLocation } from '../../src/storage/object-store-for.js';
import { S3ObjectStore } from '../../src/storage/s3-object-store.js';
import { parseStorageUrl } from '../../src/storage/storage-url.js';

describe('parseStorageUrl', () => {
  it.each([
    ['s3://media', { kind: 's3', bucket: 'media', prefix: '' }],
    ['s3://media/', { kind: 's3', bucket: 'media', prefix: '' }],
    ['s3://media/prod', { kind: 's3', bucket: 'media', prefix: 'prod/' }],
    ['s3://my.media-bucket/a/b/', { kind: 's3', bucket: 'my.media-bucket', prefix: 'a/b/' }],
    ['s3://media//a//b', { kind: 's3', bucket: 'media', prefix: 'a/b/' }],
    [' s3://media/x ', { kind: 's3', bucket: 'media', prefix: 'x/' }],
    ['fs:/srv/media', { kind: 'fs', root: '/srv/media' }],
    ['fs:///srv/media', { kind: 'fs', root: '/srv/media' }],
    ['fs:var/storage', { kind: 'fs', root: path.resolve('var/storage') }],
    ['/srv/media', { kind: 'fs', root: '/srv/media' }],
    ['var/storage', { kind: 'fs', root: path.resolve('var/storage') }],
  ])('%j → %j', (raw, location) => {
    expect(parseStorageUrl(raw)).toEqual(location);
  });

  it.each([
    ['', /must be s3:\/\/bucket\[\/prefix\], fs:<directory> or a directory path/],
    ['fs:', /fs: needs a directory/],
    ['s3://', /names bucket ""/],
    ['s3://ab', /names bucket "ab": a bucket name is 3–63/],
    ['s3://Media', /names bucket "Media"/],
    ['s3://-media', /names bucket "-media"/],
    ['s3://me..dia', /names bucket "me..dia"/],
    ['s3://key:secret@media/x', /must not hold credentials/],
    ['s3://media:9000/x', /must not hold credentials or a port/],
    ['s3://media/x?region=eu', /without query or fragment/],
    ['s3:media', /must be s3:\/\/bucket/],
    ['s3://media/a/../b', /'\.', '\.\.'/],
    ['gs://media/x', /must be s3:\/\/bucket/],
    ['https://s3.example.com/media', /must be s3:\/\/bucket/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseStorageUrl(raw)).toThrow(message);
  });
});

describe('boolean', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['YES', true],
    [' on ', true],
    ['false', false],
    ['0', false],
    ['No', false],
    ['off', false],
  ])('%j → %s', (raw, value) => expect(boolean(raw)).toBe(value));

  it('refuses anything else', () =>
    expect(() => boolean('maybe')).toThrow('must be true or false (got "maybe")'));
});

describe('storage settings in loadConfig', () => {
  it('defaults to var/storage on the filesystem, as before', () => {
    const config = loadConfig({});
    expect(config.storageUrl).toBeUndefined();
    expect(config).toMatchObject({ storageDir: 'var/storage', s3ForcePathStyle: false });
    expect(storageLocation(config)).toEqual({ kind: 'fs', root: path.resolve('var/storage') });
    expect(objectStoreFor(config)).toBeInstanceOf(FsObjectStore);
  });

  it('keeps STORAGE_DIR working alone', () => {
    const config = loadConfig({ STORAGE_DIR: '/srv/media' });
    expect(storageLocation(config)).toEqual({ kind: 'fs', root: '/srv/media' });
  });

  it('lets an fs: STORAGE_URL set STORAGE_DIR too, so callers still reading it agree', () => {
    const config = loadConfig({ STORAGE_URL: 'fs:/srv/media' });
    expect(config.storageDir).toBe('/srv/media');
    expect(loadConfig({ STORAGE_URL: 'fs:/srv/media', STORAGE_DIR: '/srv/media/' }).storageDir).toBe(
      '/srv/media/',
    );
  });

  it('refuses an fs: STORAGE_URL and a STORAGE_DIR naming different directories', () => {
    expect(() => loadConfig({ STORAGE_URL: 'fs:/srv/a', STORAGE_DIR: '/srv/b' })).toThrowError(
      new UsageError(
        'invalid configuration: STORAGE_URL (/srv/a) and STORAGE_DIR (/srv/b) name different directories: set only STORAGE_URL',
      ),
    );
  });

  it('takes an s3:// STORAGE_URL with its endpoint, region and path style', async () => {
    const config = loadConfig({
      STORAGE_URL: 's3://media/prod',
      S3_ENDPOINT: 'http://127.0.0.1:9000/',
      S3_REGION: 'eu-central-1',
    });
    expect(config).toMatchObject({
      storageUrl: { kind: 's3', bucket: 'media', prefix: 'prod/' },
      s3Endpoint: 'http://127.0.0.1:9000',
      s3Region: 'eu-central-1',
      s3ForcePathStyle: true,
    });
    const store = objectStoreFor(config);
    expect(store).toBeInstanceOf(S3ObjectStore);
    expect(store.description).toBe('s3://media/prod/');
    await store.close();
  });

  it('addresses AWS virtual-host style unless told otherwise', () => {
    expect(loadConfig({ STORAGE_URL: 's3://media' }).s3ForcePathStyle).toBe(false);
    expect(loadConfig({ STORAGE_URL: 's3://media', S3_FORCE_PATH_STYLE: 'true' }).s3ForcePathStyle).toBe(
      true,
    );
    const minio = {
      STORAGE_URL: 's3://media',
      S3_ENDPOINT: 'http://minio:9000',
      S3_FORCE_PATH_STYLE: 'false',
    };
    expect(loadConfig(minio).s3ForcePathStyle).toBe(false);
  });

  it('names every storage variable that is wrong, at once', () => {
    expect(() =>
      loadConfig({
        STORAGE_URL: 's3://Bad_Bucket',
        S3_ENDPOINT: 'ftp://x',
        S3_FORCE_PATH_STYLE: 'sometimes',
      }),
    ).toThrowError(
      new UsageError(
        'invalid configuration: STORAGE_URL names bucket "Bad_Bucket": a bucket name is 3–63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit; S3_ENDPOINT must be an http(s) URL (got "ftp://x"); S3_FORCE_PATH_STYLE must be true or false (got "sometimes")',
      ),
    );
  });

  it('refuses S3 settings without an s3:// STORAGE_URL (they would be ignored)', () => {
    expect(() => loadConfig({ S3_ENDPOINT: 'http://minio:9000', S3_REGION: 'eu-west-1' })).toThrowError(
      new UsageError(
        'invalid configuration: S3_ENDPOINT is set but STORAGE_URL is not an s3:// URL: set STORAGE_URL=s3://bucket/prefix; S3_REGION is set but STORAGE_URL is not an s3:// URL: set STORAGE_URL=s3://bucket/prefix',
      ),
    );
  });

  it('refuses a scratch directory and a serve cache that overlap, and a redirect base with a query', () => {
    for (const [scratch, cache] of [
      ['var/local', 'var/local'],
      ['var/local', 'var/local/cache'],
      ['var/local/scratch', 'var/local'],
    ]) {
      expect(() => loadConfig({ SCRATCH_DIR: scratch, SERVE_CACHE_DIR: cache })).toThrowError(
        new UsageError(
          `invalid configuration: SCRATCH_DIR (${scratch}) and SERVE_CACHE_DIR (${cache}) must be separate directories, neither inside the other`,
        ),
      );
    }
    expect(loadConfig({ SCRATCH_DIR: 'var/local', SERVE_CACHE_DIR: 'var/local-cache' }).serveCacheDir).toBe(
      'var/local-cache',
    );
    expect(() => loadConfig({ PUBLIC_MEDIA_BASE_URL: 'https://cdn.example.org/media?sig=abc' })).toThrowError(
      /PUBLIC_MEDIA_BASE_URL \(https:\/\/cdn.example.org\/media\?sig=abc\) must not have a query or a fragment/,
    );
  });
});
