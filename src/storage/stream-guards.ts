/** Stream helpers for taking in uploads: a byte cap enforced while streaming, a running sha256, a peek at the head. */
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { InvalidInputError } from '../errors.js';

/** Passes bytes through, hashing and counting them; fails as soon as the count passes `maxBytes`. */
export class HashingLimiter extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null, data?: Buffer) => void,
  ): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      callback(
        new InvalidInputError(
          `file is larger than MAX_UPLOAD_BYTES=${this.maxBytes} bytes (aborted after ${this.bytes} bytes)`,
        ),
      );
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Reads at least `bytes` from the front of a stream and gives back the head and a stream of everything. */
export async function peekStream(
  source: Readable,
  bytes: number,
): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    chunks.push(next.value);
    length += next.value.length;
  }
  async function* replay(): AsyncGenerator<Buffer> {
    let finished = done;
    try {
      yield* chunks;
      if (finished) return;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
      finished = true;
    } finally {
      // Stopped early (too large, not an image, a failed write): close the source and its socket
      // now, rather than leaving unread data on a connection until the server times it out.
      if (!finished) await iterator.return?.();
    }
  }
  return {
    head: Buffer.concat(chunks).subarray(0, bytes),
    stream: Readable.from(replay(), { objectMode: false }),
  };
}
