/** The fan-out on its own (no Redis involved): indexes, the synchronous path, the bounded queue. */
import { describe, expect, it } from 'vitest';
import { LiveFanout, LiveSubscriber, type FanoutFrame, type FanoutSink } from '../../src/alerts/fanout.js';
import type { Severity } from '../../src/redis/keys.js';

const frame = (id: string, severity: Severity = 'high', reporterId = 'u1'): FanoutFrame => ({ meta: { id, type: 'alert', severity, reporterId } });

class Sink implements FanoutSink<FanoutFrame> {
  readonly written: string[] = [];
  backedUp = false;
  #release: (() => void) | undefined;
  tryWrite(f: FanoutFrame): boolean {
    if (this.backedUp) return false;
    this.written.push(f.meta.id);
    return true;
  }
  async write(f: FanoutFrame): Promise<void> {
    if (this.backedUp) await new Promise<void>((r) => (this.#release = r));
    this.written.push(f.meta.id);
  }
  drain(): void {
    this.backedUp = false;
    this.#release?.();
  }
}

function subscriber(sink: Sink, o: { severities?: Severity[]; reporterId?: string; capacity?: number } = {}) {
  const events = { overflowed: 0, errors: 0 };
  const sub = new LiveSubscriber<FanoutFrame>({
    severities: new Set(o.severities ?? ['high']),
    reporterId: o.reporterId,
    sink,
    capacity: o.capacity ?? 3,
    lastSent: '0-0',
    onOverflow: () => (events.overflowed += 1),
    onError: () => (events.errors += 1),
    onSent: () => undefined,
  });
  return { sub, events };
}

describe('LiveFanout', () => {
  it('writes synchronously to a socket below its high-water mark, and only to subscribers that may see the event', () => {
    const fanout = new LiveFanout<FanoutFrame>();
    const all = new Sink();
    const member = new Sink();
    const low = new Sink();
    const a = subscriber(all).sub;
    const m = subscriber(member, { reporterId: 'u2' }).sub;
    const l = subscriber(low, { severities: ['low'] }).sub;
    for (const s of [a, m, l]) {
      fanout.add(s);
      s.release();
    }
    fanout.publish(frame('1-0', 'high', 'u1'));
    fanout.publish(frame('2-0', 'high', 'u2'));
    fanout.publish(frame('3-0', 'low', 'u2'));
    // No await: delivery happened in the publish call itself.
    expect(all.written).toEqual(['1-0', '2-0']);
    expect(member.written).toEqual(['2-0']);
    expect(low.written).toEqual(['3-0']);
    expect(fanout.remove(a)).toBe(true);
    fanout.publish(frame('4-0'));
    expect(all.written).toEqual(['1-0', '2-0']);
    expect(fanout.size).toBe(2);
  });

  it('queues while held or backed up, skips ids already sent, and overflows one frame past the capacity', async () => {
    const sink = new Sink();
    const { sub, events } = subscriber(sink, { capacity: 3 });
    sub.offer(frame('1-0'));
    sub.offer(frame('2-0'));
    expect(sink.written).toEqual([]);
    sub.lastSent = '1-0';
    sub.release();
    await Promise.resolve();
    expect(sink.written).toEqual(['2-0']);
    sink.backedUp = true;
    for (const id of ['3-0', '4-0', '5-0']) sub.offer(frame(id));
    expect(events.overflowed).toBe(0);
    sink.drain();
    await new Promise<void>((r) => setImmediate(r));
    expect(sink.written).toEqual(['2-0', '3-0', '4-0', '5-0']);
    sink.backedUp = true;
    for (const id of ['6-0', '7-0', '8-0', '9-0', '10-0']) sub.offer(frame(id));
    expect(events.overflowed).toBe(1);
    expect(sub.overflowed).toBe(true);
  });
});
