/**
 * Wall and CPU time of one step attempt. process.cpuUsage() counts the whole
 * process — the main thread, the pixel and model worker threads, libvips's
 * own threads — which is what an attempt costs when it runs alone, and
 * cannot be split when it does not. So every attempt in flight in this
 * process is tracked here, and one that another attempt overlapped at any
 * moment reports no CPU figure (null) rather than someone else's.
 */

interface InFlight {
  overlapped: boolean;
}

/** Attempts running in this process now, across every worker loop in it: CPU is process-wide. */
const inFlight = new Set<InFlight>();

export interface AttemptTimes {
  wall_seconds: number;
  cpu_seconds: number | null;
}

export interface AttemptMeter {
  /** The attempt is over: its times. Call once. */
  stop(): AttemptTimes;
}

export function startAttemptMeter(): AttemptMeter {
  const self: InFlight = { overlapped: inFlight.size > 0 };
  for (const other of inFlight) other.overlapped = true;
  inFlight.add(self);
  const startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  return {
    stop() {
      inFlight.delete(self);
      const cpu = process.cpuUsage(cpuAtStart);
      return {
        wall_seconds: (performance.now() - startedAt) / 1000,
        cpu_seconds: self.overlapped ? null : (cpu.user + cpu.system) / 1e6,
      };
    },
  };
}
