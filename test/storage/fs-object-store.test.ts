import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../src/storage/fs-object-store.js';
import { TEMP_PREFIX } from '../../src/storage/atomic-file.js';
import { StorageConfigError } from '../../src/storage/object-store.js';
import { defineObjectStoreConformance, type ConformanceBackend } from './object-store-conformance.js';

let root: string;
let backend: ConformanceBackend;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-object-store-'));
  const store = new FsObjectStore(root);
  backend = { store, smallPages: store, keepsMetadata: false, scratchIsRemoved: false };
});

afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

defineObjectStoreConformance('filesystem', () => backend);

describe('FsObjectStore, filesystem specifics', () => {
  it('keeps a key at <root>/<key>, shares the bytes of a copy (hard link), leaves no temp files', async () => {
    const store = new FsObjectStore(root);
    await store.put('fs-only/bulk/1.jpg', Buffer.from('original'));
    expect(fs.readFileSync(path.join(root, 'fs-only/bulk/1.jpg'), 'utf8')).toBe('original');
    expect(await store.copy('fs-only/bulk/1.jpg', 'fs-only/library/1.jpg')).toBe(true);
    expect(fs.statSync(path.join(root, 'fs-only/library/1.jpg')).ino).toBe(
      fs.statSync(path.join(root, 'fs-only/bulk/1.jpg')).ino,
    );
    const names = fs.readdirSync(path.join(root, 'fs-only'), { recursive: true }) as string[];
    expect(names.filter((name) => name.includes(TEMP_PREFIX))).toEqual([]);
  });

  it('never lists temp files, nor directories', async () => {
    const store = new FsObjectStore(root);
    fs.mkdirSync(path.join(root, 'fs-temp/empty-dir'), { recursive: true });
    fs.writeFileSync(path.join(root, 'fs-temp', `${TEMP_PREFIX}abc-1.jpg`), 'partial');
    await store.put('fs-temp/1.jpg', Buffer.from('whole'));
    const keys: string[] = [];
    for await (const object of store.list('fs-temp/')) keys.push(object.key);
    expect(keys).toEqual(['fs-temp/1.jpg']);
  });

  it('removeLeftovers removes stale temp files anywhere under the root, never young ones or objects', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fs-leftovers-'));
    const store = new FsObjectStore(dir);
    await store.put('bulk/2026-01-01/1.jpg', Buffer.from('whole'));
    const stale = path.join(dir, 'bulk/2026-01-01', `${TEMP_PREFIX}abc-2.jpg`);
    const young = path.join(dir, 'library', `${TEMP_PREFIX}def-3.webp`);
    fs.mkdirSync(path.dirname(young), { recursive: true });
    for (const file of [stale, young]) fs.writeFileSync(file, 'partial');
    const past = new Date(Date.now() - 7_200_000);
    fs.utimesSync(stale, past, past);
    fs.utimesSync(path.join(dir, 'bulk/2026-01-01/1.jpg'), past, past);
    const options = { olderThanMs: 3_600_000, now: Date.now() };
    expect(await store.removeLeftovers({ ...options, dryRun: true })).toEqual([
      `bulk/2026-01-01/${TEMP_PREFIX}abc-2.jpg`,
    ]);
    expect(fs.existsSync(stale)).toBe(true);
    expect(await store.removeLeftovers({ ...options, dryRun: false })).toHaveLength(1);
    expect([fs.existsSync(stale), fs.existsSync(young)]).toEqual([false, true]);
    expect(await store.stat('bulk/2026-01-01/1.jpg')).toMatchObject({ size: 5 });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('hands withLocalFile its own file', async () => {
    const store = new FsObjectStore(root);
    await store.put('fs-local/1.jpg', Buffer.from('x'));
    await store.withLocalFile('fs-local/1.jpg', (localPath) => {
      expect(localPath).toBe(path.join(root, 'fs-local/1.jpg'));
      return Promise.resolve();
    });
  });

  it('check() creates a missing root and refuses one that is a file', async () => {
    await new FsObjectStore(path.join(root, 'fs-check/new/root')).check();
    expect(fs.statSync(path.join(root, 'fs-check/new/root')).isDirectory()).toBe(true);
    fs.writeFileSync(path.join(root, 'fs-check/file'), '');
    await expect(new FsObjectStore(path.join(root, 'fs-check/file')).check()).rejects.toThrow();
    await expect(new FsObjectStore(path.join(root, 'fs-check/file/below')).check()).rejects.toBeInstanceOf(
      StorageConfigError,
    );
  });
});
