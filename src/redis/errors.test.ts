import { ReplyError as IoredisReplyError } from 'ioredis';
import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';
import { describe, expect, it } from 'vitest';
import { NaboomError } from '../errors/catalogue.js';
import { toNaboomError } from '../http/errors.js';
import { redisFailureKind, type RedisFailureKind } from './errors.js';

const ReplyError = IoredisReplyError as new (message: string) => Error;
const reply = (m: string): Error => new ReplyError(m);
const sha = '91fb98f1f472072e36230bd1f864f688f3ab12cd';

/** ioredis' ClusterAllFailedError is not exported: the same shape (its class name and lastNodeError). */
class ClusterAllFailedError extends Error {
  constructor(readonly lastNodeError: Error) {
    super('Failed to refresh slots cache.');
  }
  override get name(): string {
    return 'ClusterAllFailedError';
  }
}
class AbortError extends Error {
  override get name(): string {
    return 'AbortError';
  }
}

const socket = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });

/** Every Redis-side failure the API can meet, as ioredis reports it, and what it means. */
const TABLE: [string, Error, RedisFailureKind | undefined][] = [
  ['replica write', reply("READONLY You can't write against a read only replica."), 'unavailable'],
  ['replica write in a script (Redis 7)', reply(`READONLY You can't write against a read only replica. script: ${sha}, on @user_script:1.`), 'unavailable'],
  ['replica write in a script (Redis 6)', reply(`ERR Error running script (call to f_${sha}): @user_script:1: @user_script: 1: -READONLY You can't write against a read only replica.`), 'unavailable'],
  ['replica write re-raised by a script', reply(`ERR user_script:7: READONLY You can't write against a read only replica. script: ${sha}, on @user_script:7.`), 'unavailable'],
  ['loading', reply('LOADING Redis is loading the dataset in memory'), 'unavailable'],
  ['master down', reply('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.'), 'unavailable'],
  ['cluster down', reply('CLUSTERDOWN The cluster is down'), 'unavailable'],
  ['cluster down in a script', reply(`ERR Error running script (call to f_${sha}): @user_script:1: @user_script: 1: -CLUSTERDOWN Hash slot not served`), 'unavailable'],
  ['try again', reply('TRYAGAIN Multiple keys request during rehashing of slot'), 'unavailable'],
  ['moved', reply('MOVED 3999 127.0.0.1:6381'), 'unavailable'],
  ['ask', reply('ASK 3999 127.0.0.1:6381'), 'unavailable'],
  ['busy script', reply('BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.'), 'unavailable'],
  ['disk error', reply('MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.'), 'unavailable'],
  ['out of memory', reply("OOM command not allowed when used memory > 'maxmemory'."), 'unavailable'],
  ['too few replicas', reply('NOREPLICAS Not enough good replicas to write.'), 'not-replicated'],
  ['too few replicas in a script', reply(`NOREPLICAS Not enough good replicas to write. script: ${sha}, on @user_script:1.`), 'not-replicated'],
  ['acl refusal', reply("NOPERM this user has no permissions to run the 'set' command"), 'noperm'],
  ['acl refusal in a script (Redis 7)', reply(`ERR The user executing the script can't run this command or subcommand script: ${sha}, on @user_script:1.`), 'noperm'],
  ['acl refusal in a script (Redis 6)', reply(`ERR Error running script (call to f_${sha}): @user_script:1: @user_script: 1: -NOPERM this user has no permissions to run the 'set' command or its subcommand`), 'noperm'],
  ['wrong password', reply('WRONGPASS invalid username-password pair or user is disabled.'), 'auth'],
  ['no auth', reply('NOAUTH Authentication required.'), 'auth'],
  ['connection closed', new Error('Connection is closed.'), 'unavailable'],
  ['command timeout', new Error('Command timed out'), 'unavailable'],
  ['aborted on close', new AbortError('Command aborted due to connection close'), 'unavailable'],
  ['max retries', new MaxRetriesPerRequestError(1) as unknown as Error, 'unavailable'],
  ['offline queue refused', new Error("Stream isn't writeable and enableOfflineQueue options is false"), 'unavailable'],
  ['cluster offline queue refused', new Error("Cluster isn't ready and enableOfflineQueue options is false"), 'unavailable'],
  ['moved storm', new Error('Too many Cluster redirections. Last error: ReplyError: MOVED 3999 127.0.0.1:6381'), 'unavailable'],
  ['no cluster node', new Error('None of startup nodes is available'), 'unavailable'],
  ['slots refresh failed', new ClusterAllFailedError(new Error('Connection is closed.')), 'unavailable'],
  ['slots refresh refused by the ACL', new ClusterAllFailedError(reply("NOPERM this user has no permissions to run the 'cluster|slots' command")), 'noperm'],
  ['cluster ended', new AbortError('Cluster is ended.'), 'unavailable'],
  ['connection refused', socket('ECONNREFUSED'), 'unavailable'],
  ['connection reset', socket('ECONNRESET'), 'unavailable'],
  ['wrapped by the queue', new Error('could not add job', { cause: new Error('Connection is closed.') }), 'unavailable'],
  ['a script bug', reply(`ERR user_script:1: attempt to index a nil value script: ${sha}, on @user_script:1.`), undefined],
  ['a type error', reply('WRONGTYPE Operation against a key holding the wrong kind of value'), undefined],
  ['a syntax error', reply('ERR syntax error'), undefined],
  ['our bug', new TypeError("Cannot read properties of undefined (reading 'id')"), undefined],
];

describe('redisFailureKind', () => {
  it.each(TABLE)('%s', (_label, err, kind) => {
    expect(redisFailureKind(err)).toBe(kind);
  });

  it('ignores what is not an error', () => {
    expect(redisFailureKind('READONLY')).toBeUndefined();
    expect(redisFailureKind(undefined)).toBeUndefined();
  });
});

describe('toNaboomError for Redis failures', () => {
  const expected: Record<RedisFailureKind, [number, string]> = {
    unavailable: [503, 'NABOOM_UNAVAILABLE'],
    auth: [503, 'NABOOM_UNAVAILABLE'],
    'not-replicated': [503, 'NABOOM_NOT_REPLICATED'],
    noperm: [500, 'NABOOM_INTERNAL'],
  };
  it.each(TABLE.filter((row): row is [string, Error, RedisFailureKind] => row[2] !== undefined))('%s', (_label, err, kind) => {
    const e = toNaboomError(err);
    expect([e.status, e.code]).toEqual(expected[kind]);
  });

  it('an internal error wrapping a Redis failure is that failure', () => {
    const e = toNaboomError(new NaboomError('NABOOM_INTERNAL', 'reply unusable', { cause: reply('LOADING Redis is loading the dataset in memory') }));
    expect([e.status, e.code]).toEqual([503, 'NABOOM_UNAVAILABLE']);
  });

  it('a 503 that wraps an ACL refusal (a refused enqueue) is a 500; one that wraps an outage stays as it is', () => {
    const refused = new NaboomError('NABOOM_UNAVAILABLE', 'The alert is stored but its notifications could not be queued', {
      cause: new NaboomError('NABOOM_UNAVAILABLE', 'The job queue is unavailable', { cause: reply("NOPERM this user has no permissions to run the 'evalsha' command") }),
    });
    expect([toNaboomError(refused).status, toNaboomError(refused).code]).toEqual([500, 'NABOOM_INTERNAL']);
    const outage = new NaboomError('NABOOM_UNAVAILABLE', 'The job queue is unavailable', { cause: new Error('Connection is closed.') });
    expect(toNaboomError(outage)).toBe(outage);
  });

  it('the CLI codes for Redis failures answer with their API equivalents', () => {
    expect(toNaboomError(new NaboomError('NABOOM_REDIS_UNAVAILABLE')).code).toBe('NABOOM_UNAVAILABLE');
    expect(toNaboomError(new NaboomError('NABOOM_REDIS_NOPERM')).code).toBe('NABOOM_INTERNAL');
  });

  it('a bug stays a 500', () => {
    expect(toNaboomError(new TypeError('x is undefined')).status).toBe(500);
    expect(toNaboomError(new NaboomError('NABOOM_INTERNAL', 'bad reply', { cause: new TypeError('bad') })).status).toBe(500);
  });
});
