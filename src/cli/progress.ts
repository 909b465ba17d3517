/** A progress bar for long work on a TTY (stderr, via cli-progress); nothing when piped or printing JSON. */
import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  update: (done: number) => void;
  done: () => void;
}

export function progressReporter(label: string, total: number, quiet: boolean): Progress {
  if (quiet || process.stderr.isTTY !== true || total < 2)
    return { update: () => undefined, done: () => undefined };
  const bar = new SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (done) => bar.update(done), done: () => bar.stop() };
}
