/** The item's media row as the runner sees it during one claim. */
import type { Db } from '../db/connect.js';
import { takeMediaWrites, type ClaimGuard } from '../db/fenced-update.js';
import { findMedia, type MediaRecord } from '../db/records.js';

/** The item's media row, read once per claim and kept current from this claim's own writes. */
export class MediaCopy {
  private row: MediaRecord | undefined;

  constructor(
    private readonly db: Db,
    private readonly guard: ClaimGuard,
  ) {}

  async current(): Promise<MediaRecord | undefined> {
    const written = takeMediaWrites(this.guard);
    if (!this.row) this.row = await findMedia(this.db, this.guard.mediaId);
    else this.row = { ...this.row, ...written } as MediaRecord;
    return this.row;
  }
}
