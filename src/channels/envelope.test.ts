import { describe, expect, it } from 'vitest';
import { Secret } from '../config/secret.js';
import { EnvelopeCodec } from './envelope.js';

const k1 = new Secret('k1'.repeat(20));
const k2 = new Secret('k2'.repeat(20));
const k3 = new Secret('k3'.repeat(20));
const json = JSON.stringify({ k: 'm', c: 'chat', m: { type: 'secret.text', text: 'the safe word is lekker' } });

describe('channel envelope', () => {
  it('seals with an authenticated plaintext header and opens to the same payload', () => {
    const codec = new EnvelopeCodec([k1]);
    const sealed = codec.seal(json, 1_900_000_000_123);
    expect(sealed.toString('latin1')).toMatch(new RegExp(`^n1:1900000000123:${codec.keyId}:`));
    expect(sealed.includes('lekker')).toBe(false);
    expect(codec.open(sealed)).toEqual({ ok: true, payload: JSON.parse(json), expiresAt: 1_900_000_000_123 });
  });

  it('rotates: the first key seals, every key opens; an unknown key is foreign', () => {
    const old = new EnvelopeCodec([k1]);
    const rotated = new EnvelopeCodec([k2, k1]);
    expect(rotated.open(old.seal(json, 1)).ok).toBe(true);
    expect(rotated.keyId).not.toBe(old.keyId);
    expect(old.open(rotated.seal(json, 1))).toEqual({ ok: false, reason: 'foreign' });
    expect(new EnvelopeCodec([k3]).open(old.seal(json, 1))).toEqual({ ok: false, reason: 'foreign' });
  });

  it('rejects any changed byte as tampered: body, tag, expiry, version; truncated or garbage too', () => {
    const codec = new EnvelopeCodec([k1]);
    const sealed = codec.seal(json, 1_900_000_000_000);
    const flip = (i: number): Buffer => {
      const b = Buffer.from(sealed);
      b[i] = b[i]! ^ 0x01;
      return b;
    };
    const header = sealed.indexOf(':', sealed.indexOf(':', 3) + 1) + 1;
    for (const i of [header, header + 12, sealed.length - 20, sealed.length - 1, 3, 0]) {
      expect(codec.open(flip(i)), `byte ${i}`).toEqual({ ok: false, reason: 'tampered' });
    }
    expect(codec.open(sealed.subarray(0, header + 20))).toEqual({ ok: false, reason: 'tampered' });
    expect(codec.open(Buffer.from('hello'))).toEqual({ ok: false, reason: 'tampered' });
    expect(codec.open(Buffer.alloc(0))).toEqual({ ok: false, reason: 'tampered' });
    const otherId = Buffer.from(sealed.toString('latin1').replace(codec.keyId, '00000000'), 'latin1');
    expect(codec.open(otherId)).toEqual({ ok: false, reason: 'foreign' });
  });

  it('a well-sealed payload that is not JSON is invalid', () => {
    const codec = new EnvelopeCodec([k1]);
    expect(codec.open(codec.seal('{not json', 1))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('never reuses an IV and needs at least one key', () => {
    const codec = new EnvelopeCodec([k1]);
    const ivs = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const s = codec.seal('{}', 1);
      const h = s.indexOf(':', s.indexOf(':', 3) + 1) + 1;
      ivs.add(s.subarray(h, h + 12).toString('hex'));
    }
    expect(ivs.size).toBe(5000);
    expect(() => new EnvelopeCodec([])).toThrow(expect.objectContaining({ code: 'NABOOM_CONFIG_MISSING_SECRET' }));
  });
});
