/**
 * Real `media-worker run` processes, one per named slot (a slot is what a
 * systemd unit is: fixed WORKER_ID and HTTP port, restarted after a crash).
 * Every incarnation is recorded: when it started, whether the test killed it,
 * how it exited, its peak RSS (VmHWM) and its output, written to a log file.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, freePort, start, type Finished } from '../helpers/processes.js';

export interface Incarnation {
  slot: string;
  n: number;
  pid: number;
  child: ChildProcess;
  startedAt: number;
  /** The signal the test sent; undefined while the process was never signalled by the test. */
  signalledWith?: NodeJS.Signals;
  exit?: { code: number | null; signal: NodeJS.Signals | null; at: number };
  finished: Promise<Finished>;
  peakRssKb: number;
  rssSamplesKb: Array<{ at: number; kb: number }>;
  logFile: string;
  stderr: string;
}

interface Slot {
  name: string;
  port: number;
  env: Record<string, string>;
  args: string[];
  current?: Incarnation;
}

/** VmHWM (peak) and VmRSS (now) of a live process, in kB; undefined once it is gone. */
export function readMemoryKb(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { hwm: field('VmHWM'), rss: field('VmRSS') };
  } catch {
    return undefined;
  }
}

/** The CLI the scenarios run: this tree's build, or CHAOS_CLI (another build's bin/media-worker, e.g. an older commit's). */
export function chaosCli(): string {
  return process.env.CHAOS_CLI ?? CLI;
}

export class WorkerCluster {
  readonly incarnations: Incarnation[] = [];
  private readonly slots = new Map<string, Slot>();
  private sampler: NodeJS.Timeout | undefined;
  kills = 0;
  restarts = 0;

  constructor(
    private readonly logDir: string,
    private readonly envFor: (slot: string, port: number) => Record<string, string>,
  ) {
    fs.mkdirSync(logDir, { recursive: true });
  }

  /** Declares a slot (its port is fixed for all its incarnations) and starts it. */
  async add(name: string, args: string[] = ['run']): Promise<Incarnation> {
    const port = await freePort();
    const slot: Slot = { name, port, env: this.envFor(name, port), args };
    this.slots.set(name, slot);
    return this.launch(slot);
  }

  port(name: string): number {
    return this.slot(name).port;
  }

  names(): string[] {
    return [...this.slots.keys()];
  }

  /** Slots whose current incarnation is running. */
  live(): string[] {
    return this.names().filter((name) => isRunning(this.slots.get(name)!.current));
  }

  current(name: string): Incarnation | undefined {
    return this.slot(name).current;
  }

  /** Incarnations that exited although the test never signalled them. */
  unexpectedExits(): Incarnation[] {
    return this.incarnations.filter((i) => i.exit && !i.signalledWith);
  }

  /** Sends `signal` to the slot's running process and waits (bounded) for it to exit. */
  async signal(name: string, signal: NodeJS.Signals, timeoutMs = 15_000): Promise<Finished> {
    const incarnation = this.slot(name).current;
    if (!incarnation || !isRunning(incarnation)) throw new Error(`slot ${name} has no running process`);
    this.sample(incarnation);
    incarnation.signalledWith = signal;
    if (signal === 'SIGKILL') this.kills++;
    incarnation.child.kill(signal);
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
    const result = await Promise.race([incarnation.finished, timeout]);
    if (result === 'timeout') {
      incarnation.child.kill('SIGKILL');
      throw new Error(
        `${name} (pid ${incarnation.pid}) did not exit within ${timeoutMs} ms of ${signal}; killed; log: ${incarnation.logFile}`,
      );
    }
    return result;
  }

  /** Starts the slot again, as systemd's Restart= would. */
  restart(name: string): Incarnation {
    const slot = this.slot(name);
    if (isRunning(slot.current)) throw new Error(`slot ${name} is still running`);
    this.restarts++;
    return this.launch(slot);
  }

  /** Samples every live process's memory every `ms`. */
  startSampling(ms = 500): void {
    this.sampler = setInterval(() => {
      for (const incarnation of this.incarnations) if (isRunning(incarnation)) this.sample(incarnation);
    }, ms);
  }

  peakRssMb(): number {
    return Math.round(Math.max(0, ...this.incarnations.map((i) => i.peakRssKb)) / 1024);
  }

  /** SIGTERM to every live process; each must exit 0 within the grace period. Returns the problems. */
  async stopAll(timeoutMs = 20_000): Promise<string[]> {
    const problems: string[] = [];
    await Promise.all(
      this.live().map(async (name) => {
        const incarnation = this.slot(name).current!;
        try {
          const result = await this.signal(name, 'SIGTERM', timeoutMs);
          if (result.code !== 0)
            problems.push(
              `${name} (pid ${incarnation.pid}) exited ${result.code ?? result.signal} on SIGTERM, not 0; stderr: ${tail(result.stderr)}`,
            );
        } catch (error) {
          problems.push((error as Error).message);
        }
      }),
    );
    return problems;
  }

  /** Kills whatever still runs (afterAll, even after a failure). */
  async dispose(): Promise<void> {
    clearInterval(this.sampler);
    const running = this.incarnations.filter(isRunning);
    for (const incarnation of running) {
      incarnation.signalledWith ??= 'SIGKILL';
      incarnation.child.kill('SIGKILL');
    }
    await Promise.all(running.map((i) => i.finished));
  }

  private slot(name: string): Slot {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`no slot ${name}`);
    return slot;
  }

  private launch(slot: Slot): Incarnation {
    const n = this.incarnations.filter((i) => i.slot === slot.name).length + 1;
    const logFile = path.join(this.logDir, `${slot.name}.${n}.log`);
    const log = fs.createWriteStream(logFile);
    const { child, finished } = start(process.execPath, [chaosCli(), ...slot.args], slot.env);
    const incarnation: Incarnation = {
      slot: slot.name,
      n,
      pid: child.pid ?? -1,
      child,
      startedAt: Date.now(),
      finished,
      peakRssKb: 0,
      rssSamplesKb: [],
      logFile,
      stderr: '',
    };
    child.stdout!.on('data', (chunk: Buffer) => log.write(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      if (incarnation.stderr.length < 200_000) incarnation.stderr += chunk.toString();
    });
    child.on('exit', (code, signal) => {
      incarnation.exit = { code, signal, at: Date.now() };
      log.end(`\n[chaos] exited code=${code} signal=${signal}\n`);
    });
    this.incarnations.push(incarnation);
    slot.current = incarnation;
    return incarnation;
  }

  private sample(incarnation: Incarnation): void {
    const memory = readMemoryKb(incarnation.pid);
    if (!memory) return;
    incarnation.peakRssKb = Math.max(incarnation.peakRssKb, memory.hwm);
    incarnation.rssSamplesKb.push({ at: Date.now(), kb: memory.rss });
  }
}

function isRunning(incarnation: Incarnation | undefined): incarnation is Incarnation {
  return incarnation !== undefined && incarnation.exit === undefined;
}

export function tail(text: string, chars = 1500): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text;
}
