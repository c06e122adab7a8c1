import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { wsTextFrame } from './frames.js';

/** ws's frame parser (exported by ws at runtime, absent from its type declarations). */
type WsReceiver = EventEmitter & { write(chunk: Buffer): boolean };
const Receiver = (createRequire(import.meta.url)('ws') as { Receiver: unknown }).Receiver as new (opts: { isServer: boolean; maxPayload: number }) => WsReceiver;

/** Parses frames the way a WebSocket client does (ws's own receiver, client side). */
function decode(frame: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new Receiver({ isServer: false, maxPayload: 0 });
    r.on('message', (data: Buffer, isBinary: boolean) => (isBinary ? reject(new Error('binary frame')) : resolve(data.toString('utf8'))));
    r.on('error', reject);
    r.write(frame);
  });
}

describe('pre-framed WebSocket text frames', () => {
  it.each([0, 5, 125, 126, 200, 65_535, 65_536, 70_000])('a %i-byte payload decodes to the same text', async (n) => {
    const text = 'é'.repeat(Math.floor(n / 2)) + 'a'.repeat(n % 2);
    const payload = Buffer.from(text, 'utf8');
    expect(payload.length).toBe(n);
    const frame = wsTextFrame(payload);
    expect(frame[0]).toBe(0x81);
    expect(await decode(frame)).toBe(text);
  });
});
