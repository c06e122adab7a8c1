/**
 * The encrypted envelope every channel-layer payload is stored in:
 *
 *   `n1:<expiresAtMs>:<keyId>:` ‖ iv (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes)
 *
 * The ASCII header is plaintext so the Redis scripts can drop expired messages without a key, and it is
 * the GCM additional data, so changing the expiry or the key id breaks authentication like any other byte.
 * Keys are derived from each SECRET_KEY with HKDF-SHA256 (crypto/derive.ts, purposes `channels/v1 …`); the
 * first key seals, every key opens, and the key id (derived too, never the key itself) says which to try.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomFillSync, type KeyObject } from 'node:crypto';
import type { Secret } from '../config/secret.js';
import { deriveKey } from '../crypto/derive.js';
import { NaboomError } from '../errors/catalogue.js';

export const ENVELOPE_VERSION = 'n1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Longest header we accept: `n1:` + 15-digit time + `:` + 8-hex key id + `:`. */
const MAX_HEADER = 40;

export type RejectReason = 'tampered' | 'foreign' | 'invalid';

export type Opened = { readonly ok: true; readonly payload: unknown; readonly expiresAt: number } | { readonly ok: false; readonly reason: RejectReason };

interface DerivedKey {
  readonly id: string;
  readonly key: KeyObject;
}

function derive(secret: Secret): DerivedKey {
  return {
    id: deriveKey(secret, 'channels/v1 key id', 4).toString('hex'),
    key: createSecretKey(deriveKey(secret, 'channels/v1 aes-256-gcm')),
  };
}

/** IVs come from a pooled CSPRNG buffer: one syscall per 1024 messages instead of one each. */
class IvPool {
  #pool = Buffer.alloc(0);
  #offset = 0;

  next(): Buffer {
    if (this.#offset + IV_BYTES > this.#pool.length) {
      this.#pool = randomFillSync(Buffer.allocUnsafe(IV_BYTES * 1024));
      this.#offset = 0;
    }
    const iv = this.#pool.subarray(this.#offset, this.#offset + IV_BYTES);
    this.#offset += IV_BYTES;
    return iv;
  }
}

/** Seals and opens channel-layer envelopes with the configured key ring. */
export class EnvelopeCodec {
  readonly #sealKey: DerivedKey;
  readonly #byId = new Map<string, DerivedKey[]>();
  readonly #ivs = new IvPool();

  constructor(secrets: readonly Secret[]) {
    const keys = secrets.map(derive);
    const first = keys[0];
    if (!first) throw new NaboomError('NABOOM_CONFIG_MISSING_SECRET', 'Missing or empty: SECRET_KEY (the channel layer encrypts every message)');
    this.#sealKey = first;
    for (const k of keys) this.#byId.set(k.id, [...(this.#byId.get(k.id) ?? []), k]);
  }

  /** Id of the key that seals, for logs and tests. */
  get keyId(): string {
    return this.#sealKey.id;
  }

  /** Encrypts a JSON text; `expiresAt` travels in the authenticated header. */
  seal(json: string, expiresAt: number): Buffer {
    const header = Buffer.from(`${ENVELOPE_VERSION}:${Math.floor(expiresAt)}:${this.#sealKey.id}:`, 'latin1');
    const iv = this.#ivs.next();
    const cipher = createCipheriv('aes-256-gcm', this.#sealKey.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(header);
    const body = cipher.update(json, 'utf8');
    const final = cipher.final();
    return Buffer.concat([header, iv, body, final, cipher.getAuthTag()]);
  }

  /** Authenticates, decrypts and JSON-parses an envelope; the payload is still `unknown`. */
  open(raw: Buffer): Opened {
    const header = parseHeader(raw);
    if (!header) return { ok: false, reason: 'tampered' };
    const candidates = this.#byId.get(header.keyId);
    if (!candidates) return { ok: false, reason: 'foreign' };
    const iv = raw.subarray(header.length, header.length + IV_BYTES);
    const body = raw.subarray(header.length + IV_BYTES, raw.length - TAG_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    for (const k of candidates) {
      let text: string;
      try {
        const decipher = createDecipheriv('aes-256-gcm', k.key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(raw.subarray(0, header.length));
        decipher.setAuthTag(tag);
        text = decipher.update(body, undefined, 'utf8') + decipher.final('utf8');
      } catch {
        continue;
      }
      try {
        return { ok: true, payload: JSON.parse(text) as unknown, expiresAt: header.expiresAt };
      } catch {
        return { ok: false, reason: 'invalid' };
      }
    }
    return { ok: false, reason: 'tampered' };
  }
}

interface Header {
  readonly length: number;
  readonly expiresAt: number;
  readonly keyId: string;
}

function parseHeader(raw: Buffer): Header | undefined {
  const text = raw.subarray(0, MAX_HEADER).toString('latin1');
  const m = /^n1:(\d{1,15}):([0-9a-f]{8}):/.exec(text);
  if (!m?.[1] || !m[2]) return undefined;
  const length = m[0].length;
  if (raw.length < length + IV_BYTES + TAG_BYTES) return undefined;
  return { length, expiresAt: Number(m[1]), keyId: m[2] };
}
