/**
 * Copies every object of one ObjectStore to another under the same key
 * (`media-worker storage copy`: a directory to a bucket, a bucket to a
 * bucket, or back). Resumable and verified:
 *
 * - The source is listed first (keys sorted; a known total for progress and
 *   a dry run's list), then each key is decided and copied, `concurrency` at
 *   a time.
 * - An object already at the destination is skipped only when its size and
 *   the sha256 of its bytes equal the source's (both are read: a re-run costs
 *   a read of both sides, and is sound whatever wrote the destination), and,
 *   for a destination that keeps metadata, its Content-Type and Cache-Control
 *   are the ones this copy would give it. `sizeOnly` skips on equal size
 *   alone (opt-in: fast, but blind to same-length differences).
 * - Anything else at the destination is replaced: the source is the truth,
 *   and between a copy made while workers run and the final pass after they
 *   stop, the source may have changed.
 * - After each put the destination is read back: its size and sha256 must
 *   equal those of the bytes streamed from the source (hashed on the way
 *   into put). A mismatch is a failure, never a skip. Reading back is the
 *   one check that holds on every backend: an ETag is an MD5 only for some
 *   S3 servers and encryption modes, and a directory has none.
 * - put is atomic on both backends, so a kill -9 leaves no partial object;
 *   the next run copies what is missing.
 */
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { VARIANT_CACHE_CONTROL } from '../images/presets.js';
import { contentTypeFor, StorageConfigError, type ObjectStore, type PutOptions } from './object-store.js';

export type ObjectAction = 'copied' | 'replaced' | 'skipped' | 'vanished' | 'failed';

/** What happened to one key (in a dry run: what would). */
export interface ObjectOutcome {
  key: string;
  action: ObjectAction;
  /** The source's bytes (as listed, or as streamed when copied). */
  bytes: number;
  /** Why a destination object is replaced, or why the key failed. */
  reason?: string;
}

export interface CopyObjectsOptions {
  /** Keys copied at once (default 4). */
  concurrency?: number;
  /** Decide every key (reading both sides where needed), change nothing. */
  dryRun?: boolean;
  /** Only keys under this prefix (default '': all). */
  prefix?: string;
  /** Skip a destination object of the source's size without reading either (opt-in; see the file comment). */
  sizeOnly?: boolean;
  /** The destination keeps Content-Type and Cache-Control (a bucket; a directory does not). */
  destinationKeepsMetadata?: boolean;
  /** Stop taking new keys (those in flight finish); the report says `interrupted`. */
  signal?: AbortSignal;
  onListed?: (objects: number) => void;
  onObject?: (outcome: ObjectOutcome, done: number) => void;
}

export interface CopyReport {
  from: string;
  to: string;
  dryRun: boolean;
  verify: 'sha256' | 'size-only';
  /** Objects listed at the source. */
  objects: number;
  /** Written to the destination (replaced ones included). */
  copied: number;
  /** Of `copied`: a different object stood at the destination under that key. */
  replaced: number;
  skipped: number;
  /** Listed, then gone from the source before it could be read (deleted meanwhile): not copied. */
  vanished: number;
  failed: number;
  /** Bytes copied. */
  bytes: number;
  skippedBytes: number;
  interrupted: boolean;
  failures: Array<{ key: string; error: string }>;
  /** Dry run only: every key and what would happen to it. */
  plan?: ObjectOutcome[];
}

/** Content-Type from the key; variants (under library/) get the immutable Cache-Control. */
export function metadataFor(key: string): PutOptions & { contentType: string } {
  return {
    contentType: contentTypeFor(key),
    cacheControl: key.startsWith('library/') ? VARIANT_CACHE_CONTROL : undefined,
  };
}

export async function copyObjects(
  from: ObjectStore,
  to: ObjectStore,
  options: CopyObjectsOptions = {},
): Promise<CopyReport> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be ≥ 1');
  const listed: Array<{ key: string; size: number }> = [];
  for await (const object of from.list(options.prefix ?? '')) listed.push(object);
  listed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  options.onListed?.(listed.length);

  const report = emptyReport(from, to, options, listed.length);
  const plan: ObjectOutcome[] = [];
  let next = 0;
  let done = 0;
  let fatal: StorageConfigError | undefined;
  const work = async () => {
    while (next < listed.length && fatal === undefined && options.signal?.aborted !== true) {
      const object = listed[next++]!;
      let outcome: ObjectOutcome;
      try {
        outcome = await copyOne(from, to, object, options);
      } catch (error) {
        // Settings that are wrong (no bucket, refused credentials) fail every key alike: stop.
        if (error instanceof StorageConfigError) fatal ??= error;
        outcome = { key: object.key, action: 'failed', bytes: object.size, reason: messageOf(error) };
      }
      count(report, outcome);
      if (options.dryRun) plan.push(outcome);
      done += 1;
      options.onObject?.(outcome, done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(listed.length, 1)) }, work));
  if (fatal !== undefined) throw fatal;
  report.interrupted = done < listed.length;
  if (options.dryRun) report.plan = plan.sort((a, b) => (a.key < b.key ? -1 : 1));
  return report;
}

function emptyReport(
  from: ObjectStore,
  to: ObjectStore,
  options: CopyObjectsOptions,
  objects: number,
): CopyReport {
  return {
    from: from.description,
    to: to.description,
    dryRun: options.dryRun === true,
    verify: options.sizeOnly ? 'size-only' : 'sha256',
    objects,
    copied: 0,
    replaced: 0,
    skipped: 0,
    vanished: 0,
    failed: 0,
    bytes: 0,
    skippedBytes: 0,
    interrupted: false,
    failures: [],
  };
}

function count(report: CopyReport, outcome: ObjectOutcome): void {
  const { action, bytes } = outcome;
  if (action === 'copied' || action === 'replaced') {
    report.copied += 1;
    report.bytes += bytes;
    if (action === 'replaced') report.replaced += 1;
  } else if (action === 'skipped') {
    report.skipped += 1;
    report.skippedBytes += bytes;
  } else if (action === 'vanished') {
    report.vanished += 1;
  } else {
    report.failed += 1;
    report.failures.push({ key: outcome.key, error: outcome.reason ?? 'failed' });
  }
}

async function copyOne(
  from: ObjectStore,
  to: ObjectStore,
  object: { key: string; size: number },
  options: CopyObjectsOptions,
): Promise<ObjectOutcome> {
  const { key } = object;
  const difference = await destinationDifference(from, to, object, options);
  if (difference === 'vanished') return { key, action: 'vanished', bytes: object.size };
  if (difference === undefined) return { key, action: 'skipped', bytes: object.size };
  const action = difference === 'missing' ? 'copied' : 'replaced';
  const reason = difference === 'missing' ? undefined : difference;
  if (options.dryRun) return { key, action, bytes: object.size, ...(reason && { reason }) };

  const source = await from.open(key);
  if (!source) return { key, action: 'vanished', bytes: object.size };
  const hasher = digestingTransform();
  let stored: number;
  try {
    stored = await to.put(key, source.stream, { ...metadataFor(key), transforms: [hasher.transform] });
  } finally {
    source.stream.destroy();
  }
  const sent = hasher.result();
  if (sent.bytes !== source.size) {
    throw new Error(`read ${sent.bytes} of the source's ${source.size} bytes (changed while read?)`);
  }
  const back = await to.open(key);
  if (!back) throw new Error('verification failed: the destination has no object right after the put');
  const readBack = await digestOf(back.stream).finally(() => back.stream.destroy());
  if (stored !== sent.bytes || back.size !== sent.bytes || readBack.bytes !== sent.bytes) {
    throw new Error(
      `verification failed: sent ${sent.bytes} bytes, the destination stored ${stored} and reads back ${readBack.bytes} (size ${back.size})`,
    );
  }
  if (readBack.sha256 !== sent.sha256) {
    throw new Error(
      `verification failed: sha256 ${readBack.sha256} read back, ${sent.sha256} sent (${sent.bytes} bytes)`,
    );
  }
  return { key, action, bytes: sent.bytes, ...(reason && { reason }) };
}

/**
 * Why the destination's object under the key is not already a copy: 'missing', a
 * description of the difference, 'vanished' (the source is gone), or undefined (same).
 */
async function destinationDifference(
  from: ObjectStore,
  to: ObjectStore,
  object: { key: string; size: number },
  options: CopyObjectsOptions,
): Promise<string | undefined> {
  const existing = await to.stat(object.key);
  if (!existing) return 'missing';
  if (existing.size !== object.size)
    return `size ${existing.size} at the destination, ${object.size} at the source`;
  if (options.sizeOnly) return undefined;
  const source = await from.open(object.key);
  if (!source) return 'vanished';
  const destination = await to.open(object.key).catch((error: unknown) => {
    source.stream.destroy();
    throw error;
  });
  if (!destination) {
    source.stream.destroy();
    return 'missing';
  }
  let a: Digest;
  let b: Digest;
  try {
    [a, b] = await Promise.all([digestOf(source.stream), digestOf(destination.stream)]);
  } finally {
    source.stream.destroy();
    destination.stream.destroy();
  }
  if (a.bytes !== b.bytes) return `size ${b.bytes} at the destination, ${a.bytes} at the source`;
  if (a.sha256 !== b.sha256) return 'sha256 differs';
  if (options.destinationKeepsMetadata) {
    const wanted = metadataFor(object.key);
    if (destination.contentType !== wanted.contentType) return `Content-Type ${destination.contentType}`;
    if (destination.cacheControl !== wanted.cacheControl) {
      return `Cache-Control ${destination.cacheControl ?? '(none)'}`;
    }
  }
  return undefined;
}

interface Digest {
  bytes: number;
  sha256: string;
}

/** A pass-through that hashes and counts what flows through it. */
function digestingTransform(): { transform: Transform; result: () => Digest } {
  const hash = createHash('sha256');
  let bytes = 0;
  let sha256: string | undefined;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  return { transform, result: () => ({ bytes, sha256: (sha256 ??= hash.digest('hex')) }) };
}

async function digestOf(stream: Readable): Promise<Digest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
}
