/** How many uploads each API key may stream at once (API_UPLOAD_CONCURRENCY): one more is refused, not queued. */
export class UploadSlots {
  private readonly inUse = new Map<string, number>();

  constructor(private readonly perKey: number) {}

  /** A slot for `owner`, given back by calling the returned function (once); undefined when all are taken. */
  tryAcquire(owner: string): (() => void) | undefined {
    const used = this.inUse.get(owner) ?? 0;
    if (used >= this.perKey) return undefined;
    this.inUse.set(owner, used + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const now = (this.inUse.get(owner) ?? 1) - 1;
      if (now > 0) this.inUse.set(owner, now);
      else this.inUse.delete(owner);
    };
  }
}
