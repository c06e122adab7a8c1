/**
 * A counting semaphore with a short, bounded queue for CPU-heavy work (scrypt). A flood of logins would
 * otherwise queue behind libuv's four threads and make every login, real ones included, wait seconds;
 * beyond the queue the work is refused at once so the caller can answer 503 with Retry-After.
 */
import { NaboomError } from '../errors/catalogue.js';

export class WorkGate {
  readonly #concurrency: number;
  readonly #queue: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(concurrency: number, queue: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
    this.#concurrency = concurrency;
    this.#queue = Math.max(0, queue);
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `task` when a slot is free; throws NABOOM_UNAVAILABLE at once when all slots and the queue are taken. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running < this.#concurrency) {
      this.#running++;
    } else {
      if (this.#waiting.length >= this.#queue) throw new NaboomError('NABOOM_UNAVAILABLE', 'Too many logins in progress; retry in a moment');
      // The finishing task hands its slot over directly, so `#running` stays counted.
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
