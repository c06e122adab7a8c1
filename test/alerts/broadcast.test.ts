/**
 * `emergency:broadcast`, the original platform's pub/sub channel (docs/contract.md §4.1): websocket_user may
 * subscribe and receives `{"alert_id","severity","type"}` once per newly stored alert — not for an
 * Idempotency-Key retry, not for a lifecycle change; the roles that may not subscribe are refused by Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoleClient, type RedisClient } from '../../src/redis/connections.js';
import type { ClientRole } from '../../src/redis/roles.js';
import { auth, post, sampleAlert, startStack, type Stack } from '../helpers/stack.js';

interface Created {
  alert_id: string;
}

/** The messages a subscriber received, and a way to wait for the next ones. */
class Inbox {
  readonly messages: string[] = [];
  #wake: (() => void) | undefined;

  push(message: string): void {
    this.messages.push(message);
    this.#wake?.();
  }

  /** Resolves once `count` messages arrived (or rejects after `ms`). */
  async until(count: number, ms = 5000): Promise<string[]> {
    const deadline = Date.now() + ms;
    while (this.messages.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out after ${this.messages.length} of ${count} messages: ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.messages;
  }
}

describe('emergency:broadcast', () => {
  let s: Stack;
  let api: string;
  const clients: RedisClient[] = [];
  const subscriber = (role: ClientRole): RedisClient => {
    const c = createRoleClient(s.redis.config, s.redis.config.credentials[role], 'subscriber', `broadcast-test-${role}`);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    s = await startStack({ env: { RATE_LIMIT_ALERTS_PER_USER: '1000', RATE_LIMIT_ALERTS_PER_IP: '1000' } });
    api = `${s.url}/api/emergency/alerts`;
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await s?.stop();
  });

  it('websocket_user receives {"alert_id","severity","type"} once per new alert; a retry or a lifecycle change announces nothing', async () => {
    const channel = s.redis.keys.broadcastChannel;
    expect(channel).toBe('emergency:broadcast');
    const sub = subscriber('websocket');
    const inbox = new Inbox();
    sub.on('message', (ch: string, message: string) => {
      if (ch === channel) inbox.push(message);
    });
    expect(await sub.subscribe(channel)).toBe(1);

    const headers = { ...auth(s.member), 'idempotency-key': `broadcast-${Date.now()}` };
    const first = await post(api, sampleAlert({ type: 'fire', severity: 'critical' }), headers);
    expect(first.status).toBe(201);
    const a = (first.body as Created).alert_id;
    const retry = await post(api, sampleAlert({ type: 'fire', severity: 'critical' }), headers);
    expect(retry.status).toBe(200);
    expect((retry.body as Created).alert_id).toBe(a);
    expect((await post(`${api}/${a}/ack`, null, auth(s.responder))).status).toBe(200);
    const second = await post(api, sampleAlert({ type: 'medical', severity: 'low' }), auth(s.member2));
    expect(second.status).toBe(201);
    const b = (second.body as Created).alert_id;

    // One connection delivers in publish order: once b's message is here, nothing for the retry or the
    // acknowledgement came before it.
    expect(await inbox.until(2)).toEqual([
      `{"alert_id":"${a}","severity":"critical","type":"fire"}`,
      `{"alert_id":"${b}","severity":"low","type":"medical"}`,
    ]);
  });

  for (const role of ['app', 'realtime', 'monitoring'] as const) {
    it(`${role} may not subscribe: NOPERM`, async () => {
      await expect(subscriber(role).subscribe('emergency:broadcast')).rejects.toThrow(/NOPERM/);
    });
  }
});
