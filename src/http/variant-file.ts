/**
 * Opening a variant's file before anything about it is answered, 304
 * included: a file cleanup deleted, or one damaged on disk, must not be
 * revalidated as if it were still there. One open() and one fstat() per
 * request; variants are immutable, so the recorded size must be the size.
 */
import fsp from 'node:fs/promises';

export type VariantFile =
  | { state: 'open'; handle: fsp.FileHandle }
  | { state: 'missing' }
  | { state: 'damaged'; detail: string }
  /** The file system itself failed (EMFILE, EIO): the file may well be fine. */
  | { state: 'unreadable'; detail: string };

export async function openVariantFile(file: string, recordedBytes: number): Promise<VariantFile> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'missing' };
    return { state: 'unreadable', detail: `${code ?? 'open failed'}: ${(error as Error).message}` };
  }
  try {
    const stat = await handle.stat();
    if (stat.isFile() && stat.size === recordedBytes) return { state: 'open', handle };
    await handle.close();
    const found = stat.isFile() ? `${stat.size} bytes` : 'not a regular file';
    return { state: 'damaged', detail: `recorded ${recordedBytes} bytes, found ${found}` };
  } catch (error) {
    await handle.close().catch(() => undefined);
    return { state: 'unreadable', detail: (error as Error).message };
  }
}
