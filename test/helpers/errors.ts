/** Assertions on the project's own errors, for unit and integration tests. */
import { expect } from 'vitest';
import { NaboomError } from '../../src/errors/catalogue.js';

/** The NaboomError `fn` throws; the test fails when it throws anything else or nothing. */
export function fails(fn: () => unknown): NaboomError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NaboomError);
    return err as NaboomError;
  }
  throw new Error('expected an error');
}
