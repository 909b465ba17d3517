/** Letting go of an HTTP answer's body without leaving its connection open. */
import type { ClientRequest } from 'node:http';
import type { Readable } from 'node:stream';
import type { AxiosResponse } from 'axios';

/** Drops an answer's body and its connection: unread data must not keep a socket open. */
export function discard(response: AxiosResponse): void {
  const data = response.data as { destroy?: () => void } | undefined;
  if (data && typeof data.destroy === 'function') data.destroy();
  (response.request as ClientRequest | undefined)?.destroy?.();
}

/** Destroying the body (a reader gave up: too large, not an image, deadline) closes the socket too. */
export function bindSocket(response: AxiosResponse<Readable>): void {
  const body = response.data;
  body.once('close', () => {
    if (!body.readableEnded) (response.request as ClientRequest | undefined)?.destroy?.();
  });
}
