import type { Metrics } from '../metrics/registry.js';
import type { FeedSink } from './feed-types.js';
import { idMillis } from './model.js';

/**
 * Samples the delivery latency instead of observing every delivery (an observe per socket per alert was a
 * measurable share of a burst's CPU): one sample per transport per feed read — its first alert, taken when
 * the read's writes have all been handed to the sockets — and, for frames a backed-up socket sent from its
 * queue after the read, one sample per alert per transport.
 */
export class LatencySampler {
  readonly #metrics: Pick<Metrics, 'deliveryLatency'>;
  readonly #now: () => number;
  #open = false;
  readonly #pending: Record<FeedSink['transport'], string | undefined> = { ws: undefined, sse: undefined };
  readonly #lastQueued: Record<FeedSink['transport'], string | undefined> = { ws: undefined, sse: undefined };

  constructor(metrics: Pick<Metrics, 'deliveryLatency'>, now: () => number = Date.now) {
    this.#metrics = metrics;
    this.#now = now;
  }

  /** A feed read starts: its deliveries are sampled once, at `end`. */
  begin(): void {
    this.#open = true;
  }

  /** One alert frame reached a socket of this transport. */
  note(transport: FeedSink['transport'], id: string): void {
    if (this.#open) {
      this.#pending[transport] ??= id;
      return;
    }
    if (this.#lastQueued[transport] === id) return;
    this.#lastQueued[transport] = id;
    this.#observe(transport, id);
  }

  /** The read's writes are out: one sample per transport that delivered in it. */
  end(): void {
    this.#open = false;
    for (const transport of ['ws', 'sse'] as const) {
      const id = this.#pending[transport];
      if (id === undefined) continue;
      this.#pending[transport] = undefined;
      this.#observe(transport, id);
    }
  }

  #observe(transport: FeedSink['transport'], id: string): void {
    this.#metrics.deliveryLatency.observe({ transport }, Math.max(0, this.#now() - idMillis(id)) / 1000);
  }
}

/** A counting semaphore whose waits can be abandoned. */
