/**
 * Sends one push (RFC 8030) to one subscription: `web-push` encrypts the payload (RFC 8291, aes128gcm) and
 * signs the VAPID header (RFC 8292) in `generateRequestDetails`; the request itself goes out with the global
 * `fetch`, so the endpoint may as well be a local push service. The outcome says what the caller should do:
 * `gone` (404/410: delete the subscription), `retry` (429, 5xx, a timeout or a network error) or `rejected`
 * (any other refusal: retrying the same request cannot help).
 */
import webpush from 'web-push';
import type { VapidConfig } from '../config/load.js';
import { topicOf, urgencyOf, type PushMessage } from './model.js';
import type { StoredSubscription } from './subscriptions.js';
import { responseExcerpt } from '../log/excerpt.js';

export type PushOutcome =
  | { readonly result: 'sent'; readonly status: number }
  | { readonly result: 'gone'; readonly status: number }
  | { readonly result: 'retry'; readonly status: number | undefined; readonly detail: string }
  | { readonly result: 'rejected'; readonly status: number; readonly detail: string };

export interface SendOptions {
  readonly vapid: VapidConfig;
  /** TTL header: how long the push service may hold the message for an offline device. */
  readonly ttlS: number;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}


/** Encrypts, signs and sends one message; never throws for an answer of the push service. */
export async function sendPush(sub: StoredSubscription, message: PushMessage, o: SendOptions): Promise<PushOutcome> {
  const details = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: { p256dh: sub.keys.p256dh, auth: sub.keys.auth } }, JSON.stringify(message), {
    vapidDetails: { subject: o.vapid.subject, publicKey: o.vapid.publicKey, privateKey: o.vapid.privateKey.reveal() },
    TTL: o.ttlS,
    urgency: urgencyOf(message.severity),
    topic: topicOf(message.id),
    contentEncoding: 'aes128gcm',
  });
  const timeout = AbortSignal.timeout(o.timeoutMs);
  let res: Response;
  try {
    res = await fetch(details.endpoint, {
      method: details.method,
      headers: details.headers as Record<string, string>,
      body: details.body,
      redirect: 'manual',
      signal: o.signal ? AbortSignal.any([o.signal, timeout]) : timeout,
    });
  } catch (err) {
    if (o.signal?.aborted) throw err;
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    return { result: 'retry', status: undefined, detail: timeout.aborted ? `no answer within ${o.timeoutMs} ms (PUSH_TIMEOUT_MS)` : cause };
  }
  if (res.ok) {
    await res.body?.cancel();
    return { result: 'sent', status: res.status };
  }
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    return { result: 'gone', status: res.status };
  }
  const detail = await responseExcerpt(res);
  if (res.status === 429 || res.status >= 500 || res.status === 408) return { result: 'retry', status: res.status, detail };
  return { result: 'rejected', status: res.status, detail };
}
