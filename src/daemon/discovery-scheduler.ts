// Re-discovery (RFC 7050) beside the rounds: it never delays one, and its result counts from the
// next round (the daemon is told through `changed`).
import type { DiscoverSource } from '../config/load.js';
import type { Discovery } from '../discover/discover.js';
import { errorDetail } from '../lib/format.js';
import type { Logger } from '../lib/log.js';

export class DiscoveryScheduler {
  private running: Promise<void> | null = null;

  constructor(
    private readonly discovery: Discovery,
    private readonly log: Logger,
    /** some source's set changed */
    private readonly changed: () => void,
  ) {}

  /** Asks the due sources in the background, unless a refresh is still running. */
  kick(sources: readonly DiscoverSource[]): void {
    if (this.running || sources.length === 0) return;
    this.running = this.discovery
      .refresh(sources)
      .then((changed) => {
        if (changed) this.changed();
      })
      .catch((err) => this.log.error('discovery failed', { error: errorDetail(err) }))
      .finally(() => (this.running = null));
  }

  /** Resolves when no refresh runs. */
  async idle(): Promise<void> {
    await this.running;
  }
}
