/** Reads a whole stream into memory, refusing it (and closing it) once it passes a byte cap. */
import type { Readable } from 'node:stream';
import { TransientError } from '../errors.js';

export async function readBounded(stream: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > maxBytes) {
      stream.destroy();
      throw new TransientError(`${what} is larger than ${maxBytes} bytes; not read`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
