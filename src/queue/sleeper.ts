/** An interruptible sleep: the worker loop waits on it, and wake() cuts the wait short. */
export class Sleeper {
  private pending: { timer: NodeJS.Timeout; resolve: () => void } | undefined;

  sleep(ms: number): Promise<void> {
    this.wake();
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.pending = undefined;
          resolve();
        },
        Math.max(0, ms),
      );
      this.pending = { timer, resolve };
    });
  }

  wake(): void {
    if (!this.pending) return;
    clearTimeout(this.pending.timer);
    const { resolve } = this.pending;
    this.pending = undefined;
    resolve();
  }
}
