/**
 * Hostile values shared by the property tests (HTTP and WebSocket): wrong types, nulls, huge and odd numbers,
 * lone surrogates, prototype-pollution keys; and a snapshot of every key in every database, to prove that a
 * refused request wrote nothing.
 */
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { DATABASES } from '../../src/redis/databases.js';

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'] as const;

/** One UTF-16 code unit or code point, biased towards trouble: lone surrogates, NUL, controls, quotes. */
const hostileUnit: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\u0000', '\n', '\r', '"', '\\', '/', '%', '<', '&', '\u2028', '\ufeff', '\ufffd', '🔥', '-', '0', ','),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
);

/** Strings that look like numbers, ids or keywords but are not quite. */
export const trickyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '-0', '0x10', '1e999', '1e-999', '99999999999999999999', '18446744073709551616-0', '0-0', '', ' ', 'null', 'true', '[]', '{}', 'panic', 'critical', '../x', '$', '+', '*'),
  fc.string({ unit: hostileUnit, maxLength: 40 }),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map((n) => `${n}-${n % 1000n}`),
);

/** Hostile scalars: wrong types, nulls, huge and odd numbers, tricky strings. */
export const hostileScalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, Number.MIN_VALUE, -0, 90.0000001, -180.0000001, 100_001),
  trickyString,
);

/** Hostile JSON values: scalars, nested junk, and objects keyed by prototype-pollution names. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileScalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...PROTO_KEYS), trickyString), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A field that is usually plausible and sometimes hostile: explores past the first validation error. */
export const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 5, arbitrary: valid }, { weight: 1, arbitrary: hostileJson });

/** Well-formed text (the plausible branch); hostile text comes from `hostileJson`. */
export const text = (minLength: number, maxLength: number): fc.Arbitrary<string> => fc.string({ unit: 'grapheme', minLength, maxLength });

/** Raise bodies: near-valid alerts with hostile fields, extra or prototype keys, or anything at all. */
export const hostileRaiseBody: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
    .record(
      {
        type: mostly(fc.constantFrom('panic', 'medical', 'fire', 'crime', 'other')),
        severity: mostly(fc.constantFrom('critical', 'high', 'medium', 'low')),
        location: mostly(
          fc.record(
            {
              lat: mostly(fc.double({ min: -90, max: 90, noNaN: true })),
              lon: mostly(fc.double({ min: -180, max: 180, noNaN: true })),
              accuracy_m: mostly(fc.double({ min: 0, max: 100_000, noNaN: true })),
              address: mostly(text(1, 60)),
            },
            { requiredKeys: ['lat', 'lon'] },
          ),
        ),
        description: mostly(text(0, 80)),
      },
      { requiredKeys: ['type', 'location'] },
    )
    .chain((r) => fc.tuple(fc.constant(r), fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fc.tuple(fc.constantFrom(...PROTO_KEYS, 'extra', 'id', 'status'), hostileJson)))),
  },
  hostileJson.map((v) => [v, undefined] as const),
).map(([r, extra]) => {
  if (!extra || r === null || typeof r !== 'object' || Array.isArray(r)) return r;
  // defineProperty: an own `__proto__` key that JSON.stringify writes out, like a hostile client would.
  const out: Record<string, unknown> = { ...(r as Record<string, unknown>) };
  Object.defineProperty(out, extra[0], { value: extra[1], enumerable: true, configurable: true, writable: true });
  return out;
});

/** Every key of every database with its type and content (length for big values): one comparable text. */
export async function snapshot(admin: Redis): Promise<string> {
  const out: string[] = [];
  for (const db of new Set(Object.values(DATABASES))) {
    await admin.select(db);
    const keys = (await admin.keys('*')).sort();
    for (const k of keys) {
      const type = await admin.type(k);
      let content: unknown;
      if (type === 'string') content = await admin.get(k);
      else if (type === 'hash') content = await admin.hgetall(k);
      else if (type === 'zset') content = await admin.zrange(k, '0', '-1', 'WITHSCORES');
      else if (type === 'set') content = (await admin.smembers(k)).sort();
      else if (type === 'list') content = await admin.lrange(k, 0, -1);
      else if (type === 'stream') content = [await admin.xlen(k), await admin.xrevrange(k, '+', '-', 'COUNT', 1)];
      out.push(`${db}/${k} ${type} ${JSON.stringify(content)}`);
    }
  }
  await admin.select(0);
  return out.join('\n');
}

