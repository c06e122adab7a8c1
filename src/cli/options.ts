import { NaboomError } from '../errors/catalogue.js';

/** A whole-number command-line option within [min, max]; anything else is NABOOM_USAGE naming the option. */
export function parseIntOption(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new NaboomError('NABOOM_USAGE', `${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}
