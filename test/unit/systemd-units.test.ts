/** The systemd units are valid (systemd-analyze verify, where the tool exists) and keep their hardening. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/processes.js';

const UNITS = [
  'media-worker.service',
  'media-worker@.service',
  'media-worker-cleanup.service',
  'media-worker-cleanup.timer',
].map((u) => path.join(ROOT, 'systemd', u));
const hasSystemdAnalyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;

describe('systemd units', () => {
  it.runIf(hasSystemdAnalyze)('pass systemd-analyze verify', () => {
    const result = spawnSync('systemd-analyze', ['verify', ...UNITS], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice' },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr.trim()).toBe('');
  });

  it('keep the hardening the daemon relies on, and outlast the graceful shutdown', () => {
    const unit = fs.readFileSync(UNITS[0]!, 'utf8');
    for (const line of [
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/media-worker',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=\n',
      'SystemCallFilter=@system-service',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
      'KillSignal=SIGTERM',
      'Restart=on-failure',
      'EnvironmentFile=/etc/media-worker/env',
      'ExecStartPre=',
      'MemoryMax=',
    ]) {
      expect(unit).toContain(line);
    }
    const timeoutStopSec = Number(/TimeoutStopSec=(\d+)/.exec(unit)![1]);
    expect(timeoutStopSec * 1000).toBeGreaterThan(30_000); // SHUTDOWN_GRACE_MS default
    expect(fs.readFileSync(UNITS[3]!, 'utf8')).toMatch(
      /OnCalendar=daily[\s\S]*RandomizedDelaySec=[\s\S]*Persistent=true/,
    );
  });
});
