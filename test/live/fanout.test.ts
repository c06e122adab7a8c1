/** The fan-out on its own (no Redis involved): indexes, the synchronous path, the bounded queue. */
import { describe, expect, it } from 'vitest';
import { LiveFanout, LiveSubscriber, type FanoutFrame, type FanoutSink } from '../../src/alerts/fanout.js';
import { idParts } from '../../src/alerts/model.js';
import type { Severity } from '../../src/redis/keys.js';

const frame = (id: string, severity: Severity = 'high', reporterId = 'u1'): FanoutFrame => {
  const [ms, seq] = idParts(id);
  return { meta: { id, ms, seq, type: 'alert', severity, reporterId } };
};

/** Records writes; while corked they are held, as a corked socket holds them, and leave together on uncork. */
class Sink implements FanoutSink<FanoutFrame> {
  readonly written: string[] = [];
  /** Each element is one transport write: the frames that left together. */
  readonly flushes: string[][] = [];
  backedUp = false;
  corks = 0;
  #held: string[] = [];
  #release: (() => void) | undefined;
  tryWrite(f: FanoutFrame): boolean {
    if (this.backedUp) return false;
    this.written.push(f.meta.id);
    if (this.corks > 0) this.#held.push(f.meta.id);
    else this.flushes.push([f.meta.id]);
    return true;
  }
  cork(): void {
    this.corks += 1;
  }
  /** The batch's frames each uncork was told about. */
  readonly batches: string[][] = [];
  uncork(batch: readonly FanoutFrame[]): void {
    this.batches.push(batch.map((f) => f.meta.id));
    this.corks -= 1;
    if (this.corks === 0 && this.#held.length > 0) this.flushes.push(this.#held.splice(0));
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
    // A member who chose only high alerts: their own low alert is not for them.
    const picky = new Sink();
    const p = subscriber(picky, { reporterId: 'u3', severities: ['high'] }).sub;
    fanout.add(p);
    p.release();
    fanout.publish(frame('1-0', 'high', 'u1'));
    fanout.publish(frame('2-0', 'high', 'u2'));
    fanout.publish(frame('3-0', 'low', 'u2'));
    fanout.publish(frame('3-1', 'low', 'u3'));
    fanout.publish(frame('3-2', 'high', 'u3'));
    // No await: delivery happened in the publish call itself.
    expect(all.written).toEqual(['1-0', '2-0', '3-2']);
    expect(member.written).toEqual(['2-0']);
    expect(low.written).toEqual(['3-0', '3-1']);
    expect(picky.written).toEqual(['3-2']);
    fanout.remove(p);
    expect(fanout.remove(a)).toBe(true);
    fanout.publish(frame('4-0'));
    expect(all.written).toEqual(['1-0', '2-0', '3-2']);
    expect(fanout.size).toBe(2);
  });

  it('on the synchronous path, sends only frames after the last id, comparing ids as numbers', () => {
    const sink = new Sink();
    const { sub } = subscriber(sink);
    sub.lastSent = '1700000000000-9';
    sub.release();
    // Older or equal: the client has it already (a replay went past the live position).
    for (const id of ['1699999999999-99', '1700000000000-8', '1700000000000-9']) sub.offer(frame(id));
    expect(sink.written).toEqual([]);
    // Newer by sequence (10 > 9 although "10" < "9" as text), then by milliseconds.
    for (const id of ['1700000000000-10', '1700000000000-10', '1700000000001-0', '1700000000000-11']) sub.offer(frame(id));
    expect(sink.written).toEqual(['1700000000000-10', '1700000000001-0']);
    expect(sub.lastSent).toBe('1700000000001-0');
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

  it('inside a batch, hands each socket all the frames it gets from one read in one write', () => {
    const fanout = new LiveFanout<FanoutFrame>();
    const sinks = [new Sink(), new Sink(), new Sink()];
    const subs = sinks.map((sink, i) => subscriber(sink, { severities: i === 2 ? ['low'] : ['high'] }).sub);
    for (const s of subs) {
      fanout.add(s);
      s.release();
    }
    fanout.beginBatch();
    for (const id of ['1-0', '2-0', '3-0']) fanout.publish(frame(id));
    // Written during the batch (nothing queued, no promise), but held until it ends.
    expect(sinks[0]?.written).toEqual(['1-0', '2-0', '3-0']);
    expect(sinks[0]?.flushes).toEqual([]);
    // A medium alert none of them sees: still one of the batch's frames.
    fanout.publish(frame('4-0', 'medium'));
    fanout.endBatch();
    expect(sinks[0]?.flushes).toEqual([['1-0', '2-0', '3-0']]);
    // Each sink learns every frame the batch published, to tell whether it got all of them.
    expect(sinks[0]?.batches).toEqual([['1-0', '2-0', '3-0', '4-0']]);
    expect(sinks[1]?.flushes).toEqual([['1-0', '2-0', '3-0']]);
    expect(sinks.map((s) => s.corks)).toEqual([0, 0, 0]);
    // A socket that got nothing in the batch was never corked.
    expect(sinks[2]?.flushes).toEqual([]);
    // A batch of one alert (light load) is one write, as without batching.
    fanout.beginBatch();
    fanout.publish(frame('4-0'));
    fanout.endBatch();
    fanout.publish(frame('5-0'));
    expect(sinks[0]?.flushes).toEqual([['1-0', '2-0', '3-0'], ['4-0'], ['5-0']]);
  });

  it('inside a batch, a backed-up socket still queues, bounded, and overflows one frame past the capacity', async () => {
    const fanout = new LiveFanout<FanoutFrame>();
    const fast = new Sink();
    const slow = new Sink();
    const f = subscriber(fast, { capacity: 2 });
    const s = subscriber(slow, { capacity: 2 });
    for (const x of [f.sub, s.sub]) {
      fanout.add(x);
      x.release();
    }
    fanout.beginBatch();
    fanout.publish(frame('1-0'));
    slow.backedUp = true;
    // 2-0 is in the pending write; 3-0 and 4-0 fill the queue of 2.
    for (const id of ['2-0', '3-0', '4-0']) fanout.publish(frame(id));
    expect(s.sub.queued).toBe(2);
    expect(s.events.overflowed).toBe(0);
    fanout.publish(frame('5-0'));
    expect(s.events.overflowed).toBe(1);
    expect(s.sub.overflowed).toBe(true);
    fanout.endBatch();
    // The overflowed socket is uncorked all the same (what it was written before goes out), the other unharmed.
    expect(slow.corks).toBe(0);
    expect(slow.flushes).toEqual([['1-0']]);
    expect(fast.flushes).toEqual([['1-0', '2-0', '3-0', '4-0', '5-0']]);
    expect(f.events.overflowed).toBe(0);
    // A backed-up socket that drains in time sends its queue in order, after the batch, with nothing lost.
    const later = new Sink();
    const l = subscriber(later, { capacity: 2 });
    fanout.add(l.sub);
    l.sub.release();
    later.backedUp = true;
    fanout.beginBatch();
    for (const id of ['6-0', '7-0', '8-0']) fanout.publish(frame(id));
    fanout.endBatch();
    later.drain();
    await new Promise<void>((r) => setImmediate(r));
    expect(later.written).toEqual(['6-0', '7-0', '8-0']);
    expect(l.events.overflowed).toBe(0);
  });
});
