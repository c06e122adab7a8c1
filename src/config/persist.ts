/**
 * Writes a rotated secret back to where it came from: the `.env` file (the one variable replaced in place,
 * the rest untouched) or the `*_PASSWORD_FILE`. Atomic (write to a temporary file, then rename) and 0600.
 */
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { NaboomError } from '../errors/catalogue.js';
import type { SecretSource } from './load.js';

function atomicWrite(path: string, content: string): void {
  let mode = 0o600;
  try {
    mode = statSync(path).mode & 0o777 & ~0o077;
  } catch {
    // new file: 0600
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: mode || 0o600 });
  chmodSync(tmp, mode || 0o600);
  renameSync(tmp, path);
}

/** Replaces (or appends) `variable=value` in .env text. */
export function replaceEnvVar(text: string, variable: string, value: string): string {
  const lines = text.split('\n');
  const re = new RegExp(`^\\s*(export\\s+)?${variable}\\s*=`);
  let found = false;
  const out = lines.map((l) => {
    if (re.test(l)) {
      found = true;
      return `${variable}=${value}`;
    }
    return l;
  });
  if (!found) {
    if (out.length && out[out.length - 1] === '') out.splice(out.length - 1, 0, `${variable}=${value}`);
    else out.push(`${variable}=${value}`);
  }
  return out.join('\n');
}

/** Persists a new secret value; throws when its source cannot be written (plain process environment). */
export function persistSecret(source: SecretSource | undefined, value: string): string {
  if (source?.kind === 'file') {
    atomicWrite(source.path, `${value}\n`);
    return source.path;
  }
  if (source?.kind === 'env' && source.envFile) {
    atomicWrite(source.envFile, replaceEnvVar(readFileSync(source.envFile, 'utf8'), source.variable, value));
    return source.envFile;
  }
  throw new NaboomError(
    'NABOOM_ROTATE_FAILED',
    `${source?.variable ?? 'the password'} comes from the process environment, which naboom cannot rewrite`,
    { hint: 'Keep the password in .env or in a *_PASSWORD_FILE so rotation can write the new one.' },
  );
}
