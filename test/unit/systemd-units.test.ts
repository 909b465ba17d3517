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

/** `Key=value` lines of one [Section] of a unit file; a key given twice keeps every value. */
function unitSection(file: string, section: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  let current = '';
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || line === '') continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) current = header[1]!;
    else if (current === section) {
      const [key, ...rest] = line.split('=');
      values.set(key!, [...(values.get(key!) ?? []), rest.join('=')]);
    }
  }
  return values;
}

describe('systemd units', () => {
  it.runIf(hasSystemdAnalyze)('pass systemd-analyze verify', () => {
    const result = spawnSync('systemd-analyze', ['verify', ...UNITS], {
      encoding: 'utf8',
      env: { ...process.env, SYSTEMD_LOG_LEVEL: 'notice' },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr.trim()).toBe('');
  });

  it.each([UNITS[0]!, UNITS[1]!].map((file) => [path.basename(file), file]))(
    '%s cannot give up during a database outage',
    (_name, file) => {
      const unit = unitSection(file, 'Unit');
      const service = unitSection(file, 'Service');
      // No start limit (0 switches it off), or one whose burst could never be reached.
      expect(unit.get('StartLimitIntervalSec')).toEqual(['0']);
      expect(service.get('Restart')).toEqual(['always']);
      const restartSec = Number(service.get('RestartSec')![0]);
      expect(restartSec).toBeGreaterThanOrEqual(1);
      expect(restartSec).toBeLessThanOrEqual(30);
      // Only a configuration error (exit 2) is left stopped: no restart fixes a wrong password.
      expect(service.get('RestartPreventExitStatus')).toEqual(['2']);
      // Ordered after a local database, never bound to it: a remote database has no local unit.
      expect(unit.get('After')![0]).toMatch(/mariadb\.service mysql\.service/);
      for (const key of ['Requires', 'BindsTo', 'Requisite', 'PartOf'])
        expect(unit.get(key)?.join(' ') ?? '').not.toMatch(/mariadb|mysql/);
      // The worker and migrate wait for the database themselves: nothing may bound that wait.
      const environment = [...(service.get('Environment') ?? []), ...(service.get('ExecStartPre') ?? [])];
      expect(environment.join(' ')).not.toMatch(/DATABASE_WAIT_MS|--database-wait-ms/);
      if (service.has('ExecStartPre')) {
        expect(service.get('ExecStartPre')![0]).toMatch(/media-worker migrate$/);
        expect(service.get('TimeoutStartSec')).toEqual(['infinity']);
      }
    },
  );

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
      'Restart=always',
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
