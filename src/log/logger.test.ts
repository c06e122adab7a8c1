import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'debug', destination }) };
}

describe('logger', () => {
  it('redacts passwords, tokens, cookies and SECRET_KEY wherever they appear', () => {
    const { lines, log } = capture();
    log.info({ password: 'p4ss-1', redis: { password: 'p4ss-2' }, SECRET_KEY: 'k3y', token: 't0k', req: { headers: { authorization: 'Bearer b34rer', cookie: 'sid=c00kie' } } }, 'hello');
    const out = lines.join('');
    for (const s of ['p4ss-1', 'p4ss-2', 'k3y', 't0k', 'b34rer', 'c00kie']) expect(out).not.toContain(s);
    expect(out).toContain('[redacted]');
  });

  it('drops the arguments of a failed AUTH/HELLO that ioredis attaches to errors', () => {
    const { lines, log } = capture();
    const err = Object.assign(new Error('WRONGPASS invalid username-password pair'), { command: { name: 'auth', args: ['app_user', 's3cr3t-pw'] } });
    log.error({ err }, 'redis failed');
    const out = lines.join('');
    expect(out).not.toContain('s3cr3t-pw');
    expect(out).toContain('auth [args redacted]');
  });

  it('never logs the options of an ioredis client (they hold the password)', () => {
    const { lines, log } = capture();
    const client = new Redis({ lazyConnect: true, password: 'in-0pti0ns' });
    log.info({ options: { password: client.options.password } }, 'x');
    expect(lines.join('')).not.toContain('in-0pti0ns');
    client.disconnect();
  });
});
