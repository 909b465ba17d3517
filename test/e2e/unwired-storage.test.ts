/** An s3:// STORAGE_URL is refused (exit 2, one line naming it) until the steps, /serve and cleanup use the object store. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/processes.js';

describe('STORAGE_URL=s3:// before the switch-over', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'media-worker-unwired-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([['run', '--once'], ['stats'], ['cleanup', '--dry-run']])(
    '%s refuses it instead of writing to the local disk',
    async (...args) => {
      const result = await runCli(args, {
        DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
        STORAGE_URL: 's3://media/prod',
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        'STORAGE_URL=s3://media/prod/: processing and serving from S3 are not wired in',
      );
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(fs.existsSync(path.join(dir, 'db.sqlite'))).toBe(false);
    },
  );
});
