/**
 * The request deadline on a bare Fastify app (inject, no Redis): a 503 with Retry-After at the deadline,
 * and whatever the late handler does afterwards answers nothing and logs nothing per request.
 */
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger.js';
import { LONG_LIVED_ROUTES, registerDeadline } from './deadline.js';
import { installErrorHandling } from './errors.js';

const DEADLINE_MS = 100;

/** A promise with its resolve, for a handler that waits until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('request deadline', () => {
  let app: FastifyInstance;
  let logs: string[];
  let release: ReturnType<typeof gate>;
  let finished: ReturnType<typeof gate>;
  let handlerRan: boolean;
  /** An onSend hook that waits (as a rolling session's save does on a frozen Redis) until the test ends. */
  let holdOnSend: ReturnType<typeof gate> | undefined;

  beforeEach(async () => {
    logs = [];
    release = gate();
    finished = gate();
    handlerRan = false;
    holdOnSend = undefined;
    const logger: FastifyBaseLogger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logs.push(chunk.toString());
          done();
        },
      }),
    });
    app = Fastify({ loggerInstance: logger });
    installErrorHandling(app);
    registerDeadline(app, DEADLINE_MS, () => ({ 'x-frame-options': 'DENY' }));
    app.addHook('onSend', async () => {
      await holdOnSend?.promise;
    });
    const late = async <T>(answer: () => T): Promise<T> => {
      try {
        await release.promise;
        return answer();
      } finally {
        finished.open();
      }
    };
    app.get('/returns', async () => late(() => ({ late: true })));
    app.get('/sends', async (_req, reply) => late(() => reply.code(201).send({ late: true })));
    app.get('/throws', async () =>
      late(() => {
        throw new Error('late failure');
      }),
    );
    app.get(
      '/hook',
      {
        preValidation: async () => {
          await late(() => undefined);
        },
      },
      async () => {
        handlerRan = true;
        return { late: true };
      },
    );
    app.get('/fast', async () => ({ fast: true }));
    for (const url of LONG_LIVED_ROUTES) app.get(url, async () => late(() => ({ streamed: true })));
    await app.ready();
  });

  afterEach(async () => {
    release.open();
    holdOnSend?.open();
    await app.close();
  });

  async function expectDeadlineAnswer(url: string): Promise<void> {
    const started = Date.now();
    const res = await app.inject({ method: 'GET', url });
    expect(Date.now() - started).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.json()).toEqual({ error: { code: 'NABOOM_UNAVAILABLE', message: expect.stringMatching(/not answered in time.*same Idempotency-Key/) as unknown, details: { deadline_ms: DEADLINE_MS } } });
    release.open();
    await finished.promise;
    await nextTurn();
  }

  const quiet = (): void => {
    const all = logs.join('');
    expect(all).not.toMatch(/Reply was already sent|Promise errored|request failed|ERR_HTTP_HEADERS_SENT/);
    expect(all.match(/not answered within the deadline/g)).toHaveLength(1);
  };

  it('answers 503 at the deadline; the late return is dropped without a log line', async () => {
    await expectDeadlineAnswer('/returns');
    quiet();
  });

  it('drops a late reply.send and a late throw the same way', async () => {
    await expectDeadlineAnswer('/sends');
    release = gate();
    finished = gate();
    await expectDeadlineAnswer('/throws');
    // One line per interval: the second late request is counted, not logged.
    quiet();
  });

  it('answers at the deadline even while an onSend hook waits, and the late answer is not sent after it', async () => {
    holdOnSend = gate();
    await expectDeadlineAnswer('/sends');
    holdOnSend.open();
    await nextTurn();
    quiet();
  });

  it('a request still in a hook at the deadline never reaches its handler', async () => {
    await expectDeadlineAnswer('/hook');
    expect(handlerRan).toBe(false);
    quiet();
  });

  it('leaves fast requests and the long-lived routes alone', async () => {
    expect((await app.inject({ method: 'GET', url: '/fast' })).json()).toEqual({ fast: true });
    for (const url of LONG_LIVED_ROUTES) {
      release = gate();
      finished = gate();
      const answered = app.inject({ method: 'GET', url });
      // Past the deadline, then answered by the handler itself.
      await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS * 2));
      release.open();
      const res = await answered;
      expect(res.statusCode, url).toBe(200);
      expect(res.json(), url).toEqual({ streamed: true });
    }
    expect(logs.join('')).not.toMatch(/not answered within the deadline/);
  });
});
