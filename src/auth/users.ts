/**
 * Accounts on the app role under `naboom:auth:*`: one hash per user (scrypt password hash, role, id), an
 * index set of usernames, and API tokens stored only as SHA-256 hashes.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { NaboomError } from '../errors/catalogue.js';
import type { RedisClient } from '../redis/connections.js';
import type { KeySpace } from '../redis/keys.js';
import { dummyHash, hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords.js';
import { USER_ROLES, type UserRole } from './principal.js';

export interface User {
  readonly id: string;
  readonly username: string;
  readonly role: UserRole;
  readonly createdAt: string;
}

const USERNAME = /^[a-z0-9][a-z0-9_.-]{1,63}$/;
const TOKEN = /^nbm_[A-Za-z0-9_-]{43}$/;

const stored = z.object({
  id: z.string().min(1),
  username: z.string(),
  role: z.enum(USER_ROLES),
  password: z.string(),
  created_at: z.string(),
});

export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

export function validateUsername(name: string): string {
  if (!USERNAME.test(name)) {
    throw new NaboomError('NABOOM_VALIDATION', 'Usernames are 2–64 characters: lower-case letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return name;
}

/** Reads and writes accounts. Takes an app-role client. */
export class UserStore {
  readonly #redis: RedisClient;
  readonly #keys: KeySpace;

  constructor(redis: RedisClient, keys: KeySpace) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async add(username: string, role: UserRole, password: string): Promise<User> {
    validateUsername(username);
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw new NaboomError('NABOOM_VALIDATION', `Passwords need at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    const user: User = { id: `u_${randomUUID().replace(/-/g, '').slice(0, 20)}`, username, role, createdAt: new Date().toISOString() };
    const hash = await hashPassword(password);
    const key = this.#keys.auth.user(username);
    // SADD is the uniqueness check: only the first writer of a name adds it to the index.
    if ((await this.#redis.sadd(this.#keys.auth.userIndex, username)) === 0) {
      throw new NaboomError('NABOOM_USER_EXISTS', `User "${username}" already exists`);
    }
    await this.#redis.hset(key, { id: user.id, username, role, password: hash, created_at: user.createdAt });
    return user;
  }

  async get(username: string): Promise<User | undefined> {
    if (!USERNAME.test(username)) return undefined;
    const raw = await this.#redis.hgetall(this.#keys.auth.user(username));
    const parsed = stored.safeParse(raw);
    if (!parsed.success) return undefined;
    return { id: parsed.data.id, username: parsed.data.username, role: parsed.data.role, createdAt: parsed.data.created_at };
  }

  async list(): Promise<User[]> {
    const names = (await this.#redis.smembers(this.#keys.auth.userIndex)).sort();
    const users = await Promise.all(names.map((n) => this.get(n)));
    return users.filter((u): u is User => u !== undefined);
  }

  /** Removes the user, revokes every token issued to them and deletes their push subscriptions. */
  async remove(username: string): Promise<void> {
    if (!USERNAME.test(username) || (await this.#redis.srem(this.#keys.auth.userIndex, username)) === 0) {
      throw new NaboomError('NABOOM_USER_NOT_FOUND', `No user "${username}"`);
    }
    const hashes = await this.#redis.smembers(this.#keys.auth.userTokens(username));
    const keys = [this.#keys.auth.user(username), this.#keys.auth.userTokens(username), ...hashes.map((h) => this.#keys.auth.token(h))];
    // One DEL per key: on Cluster they live in different slots.
    await Promise.all(keys.map((k) => this.#redis.del(k)));
    await this.#dropPushSubscriptions(username);
  }

  /** Push goes to responders and admins only: an account that is neither (or is gone) holds no subscription. */
  async #dropPushSubscriptions(username: string): Promise<void> {
    await this.#redis.del(this.#keys.push.subscriptions(username));
    await this.#redis.srem(this.#keys.push.subscribers, username);
  }

  /** Checks a username and password; spends the same time on unknown users. */
  async authenticate(username: string, password: string): Promise<User | undefined> {
    const raw = USERNAME.test(username) ? await this.#redis.hgetall(this.#keys.auth.user(username)) : {};
    const parsed = stored.safeParse(raw);
    if (!parsed.success) {
      await verifyPassword(password, await dummyHash());
      return undefined;
    }
    if (!(await verifyPassword(password, parsed.data.password))) return undefined;
    return { id: parsed.data.id, username: parsed.data.username, role: parsed.data.role, createdAt: parsed.data.created_at };
  }

  /** Issues a new API token (returned once; only its hash is stored). */
  async issueToken(username: string): Promise<string> {
    const user = await this.get(username);
    if (!user) throw new NaboomError('NABOOM_USER_NOT_FOUND', `No user "${username}"`);
    const token = `nbm_${randomBytes(32).toString('base64url')}`;
    const h = tokenHash(token);
    await this.#redis.set(this.#keys.auth.token(h), username);
    await this.#redis.sadd(this.#keys.auth.userTokens(username), h);
    return token;
  }

  /** Revokes every API token of the user; returns how many there were. */
  async revokeTokens(username: string): Promise<number> {
    if (!(await this.get(username))) throw new NaboomError('NABOOM_USER_NOT_FOUND', `No user "${username}"`);
    const hashes = await this.#redis.smembers(this.#keys.auth.userTokens(username));
    // One DEL per key: on Cluster they live in different slots. The token keys first: a token is dead the moment its key is.
    await Promise.all(hashes.map((h) => this.#redis.del(this.#keys.auth.token(h))));
    if (hashes.length > 0) await this.#redis.srem(this.#keys.auth.userTokens(username), ...hashes);
    return hashes.length;
  }

  /**
   * Changes the user's role (sessions and tokens keep working with the new role; live feeds are reopened). A
   * member holds no push subscription, so a demotion to member deletes them.
   */
  async setRole(username: string, role: UserRole): Promise<User> {
    if (!(USER_ROLES as readonly string[]).includes(role)) throw new NaboomError('NABOOM_VALIDATION', `The role must be one of ${USER_ROLES.join(', ')}`);
    const user = await this.get(username);
    if (!user) throw new NaboomError('NABOOM_USER_NOT_FOUND', `No user "${username}"`);
    await this.#redis.hset(this.#keys.auth.user(username), 'role', role);
    if (role === 'member') await this.#dropPushSubscriptions(username);
    return { ...user, role };
  }

  /** The user a token belongs to, if the token is valid and the user still exists. */
  async byToken(token: string): Promise<User | undefined> {
    if (!TOKEN.test(token)) return undefined;
    const username = await this.#redis.get(this.#keys.auth.token(tokenHash(token)));
    return username ? await this.get(username) : undefined;
  }
}
