/**
 * Runs the escalation sweep once a second in every serve process. Claims are atomic in Redis, so with
 * several processes each due escalation still fires exactly once.
 */
import type { Logger } from '../log/logger.js';
import type { AlertService } from './service.js';

export class Escalator {
  readonly #service: AlertService;
  readonly #log: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(service: AlertService, logger: Logger, intervalMs = 1000) {
    this.#service = service;
    this.#log = logger;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.#service
        .escalateDue()
        .then(() => undefined)
        .catch((err: unknown) => this.#log.warn({ err }, 'escalation sweep failed; retrying next second'))
        .finally(() => (this.#running = undefined));
    }, this.#intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }
}
