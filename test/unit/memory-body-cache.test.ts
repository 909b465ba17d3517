import { describe, expect, it } from 'vitest';
import { MemoryBodyCache } from '../../src/http/memory-body-cache.js';

const body = (bytes: number, fill = 1) => Buffer.alloc(bytes, fill);

describe('MemoryBodyCache', () => {
  it('holds bodies up to its byte budget, evicting the least recently served first', () => {
    const cache = new MemoryBodyCache(64 * 100); // entries of at most 100 bytes
    for (const key of ['a', 'b', 'c']) cache.set(key, body(100));
    expect(cache.size).toEqual({ entries: 3, bytes: 300 });
    expect(cache.get('a')?.length).toBe(100); // a is now the most recent
    for (let i = 0; i < 61; i++) cache.set(`x${i}`, body(100)); // 64 entries: full, nothing evicted yet
    expect(cache.size).toEqual({ entries: 64, bytes: 6400 });
    cache.set('y', body(100)); // one over: b, the least recently served, goes
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.size).toEqual({ entries: 64, bytes: 6400 });
  });

  it('refuses a body over 1/64 of the budget, and keeps the first body stored under a key', () => {
    const cache = new MemoryBodyCache(6400);
    cache.set('big', body(101));
    expect(cache.get('big')).toBeUndefined();
    cache.set('k', body(10, 1));
    cache.set('k', body(10, 2));
    expect(cache.get('k')?.[0]).toBe(1);
    expect(cache.size).toEqual({ entries: 1, bytes: 10 });
  });
});
