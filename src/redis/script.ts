/**
 * A Lua script run with EVALSHA, falling back to EVAL once when the server does not know it yet (after a
 * restart or failover). No SCRIPT LOAD: roles need only `eval` and `evalsha`.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './connections.js';

export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return await client.eval(this.lua, keys.length, ...keys, ...args);
      }
      throw err;
    }
  }
}
