import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A secret value that cannot leak by accident: printing, logging, JSON-encoding or string interpolation
 * all yield `[redacted]`. Only `reveal()` hands out the value, at the one place that sends it to Redis.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
