import { describe, expect, it } from 'vitest';
import { findIllFormedText, validatorCompiler } from './validation.js';

describe('request validation', () => {
  const compile = validatorCompiler();
  type Check = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
  const build = (schema: object, httpPart: string): Check => compile({ schema, httpPart, method: 'GET', url: '/' }) as Check;

  it('finds the first ill-formed string or property name, with its JSON pointer', () => {
    expect(findIllFormedText({ a: ['ok', { b: 'fire 🔥' }] })).toBeUndefined();
    expect(findIllFormedText({ a: ['ok', { 'b/c~': 'x\ud800' }] })?.instancePath).toBe('/a/1/b~1c~0');
    expect(findIllFormedText({ a: { '\udc00': 1 } })).toMatchObject({ instancePath: '/a', message: expect.stringMatching(/property name/) as unknown });
    expect(findIllFormedText('\ud83d')?.instancePath).toBe('');
    let deep: unknown = 'end \ud800';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findIllFormedText(deep)?.instancePath).toMatch(/^(\/0){100000}$/);
  });

  it('checks well-formed text in every part, before the schema (query strings, params, headers too)', () => {
    const schema = { type: 'object', properties: { since: { type: 'string' } } };
    for (const part of ['querystring', 'params', 'headers', 'body']) {
      const v = build(schema, part);
      expect(v({ since: '1-0' }), part).toBe(true);
      expect(v({ since: '1-0\ud800' }), part).toBe(false);
      expect(v.errors?.[0]).toMatchObject({ instancePath: '/since', message: expect.stringMatching(/well-formed UTF-16/) as unknown });
      expect(v({ 'idempotency-key': 'k\udfff' }), part).toBe(false);
    }
  });

  it('coerces query strings only', () => {
    const schema = { type: 'object', properties: { limit: { type: 'integer', default: 50 } } };
    const q: Record<string, unknown> = { limit: '20' };
    expect(build(schema, 'querystring')(q)).toBe(true);
    expect(q['limit']).toBe(20);
    const dq: Record<string, unknown> = {};
    expect(build(schema, 'querystring')(dq)).toBe(true);
    expect(dq['limit']).toBe(50);
    const body = build(schema, 'body');
    expect(body({ limit: '20' })).toBe(false);
    expect(body.errors?.[0]).toMatchObject({ instancePath: '/limit', message: 'must be integer' });
    expect(body({ limit: null })).toBe(false);
    expect(build(schema, 'params')({ limit: '20' })).toBe(false);
  });

  it('bounds stream ids with the stream-id format', () => {
    const v = build({ type: 'string', format: 'stream-id' }, 'body');
    expect(v('18446744073709551615-0')).toBe(true);
    expect(v('18446744073709551616-0')).toBe(false);
  });
});
