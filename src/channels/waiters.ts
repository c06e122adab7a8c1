/** FIFO structures for receivers: a deque (O(1) shift) and a queue of pending receives with timeout/abort. */

export interface ReceiveOptions {
  /** Aborting rejects the pending receive with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Rejects with a `TimeoutError` DOMException when nothing arrived in time. */
  readonly timeoutMs?: number;
}

/** Array-backed FIFO; `shift()` is O(1) amortised, unlike `Array.prototype.shift` on long arrays. */
export class Deque<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head += 1;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return out;
  }
}

interface Waiter<T> {
  settled: boolean;
  readonly deadline: number | undefined;
  resolve(value: T): void;
  reject(err: Error): void;
}

/** Pending receives of one channel, served in arrival order; cancelled ones are skipped lazily. */
export class WaiterQueue<T> {
  readonly #queue = new Deque<Waiter<T>>();
  #live = 0;

  /** Number of receives still waiting. */
  get size(): number {
    return this.#live;
  }

  wait(opts: ReceiveOptions = {}): Promise<T> {
    const { signal, timeoutMs } = opts;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => settle(() => reject(signal ? abortReason(signal) : new DOMException('Aborted', 'AbortError')));
      const settle = (then: () => void): void => {
        if (waiter.settled) return;
        waiter.settled = true;
        this.#live -= 1;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        then();
      };
      const waiter: Waiter<T> = {
        settled: false,
        deadline: timeoutMs === undefined ? undefined : Date.now() + timeoutMs,
        resolve: (v) => settle(() => resolve(v)),
        reject: (e) => settle(() => reject(e)),
      };
      this.#live += 1;
      this.#queue.push(waiter);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => settle(() => reject(new DOMException(`No message within ${timeoutMs} ms`, 'TimeoutError'))), timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands `value` to the oldest waiting receive; false when nobody waits. */
  resolveNext(value: T): boolean {
    for (let w = this.#queue.shift(); w; w = this.#queue.shift()) {
      if (w.settled) continue;
      w.resolve(value);
      return true;
    }
    return false;
  }

  /** Earliest deadline among waiting receives (`undefined`: someone waits without one, or nobody waits). */
  earliestDeadline(): number | undefined {
    const live = this.#queue.drain().filter((w) => !w.settled);
    for (const w of live) this.#queue.push(w);
    let min: number | undefined;
    for (const w of live) {
      if (w.deadline === undefined) return undefined;
      min = min === undefined ? w.deadline : Math.min(min, w.deadline);
    }
    return min;
  }

  rejectAll(err: Error): void {
    for (const w of this.#queue.drain()) if (!w.settled) w.reject(err);
  }
}

/** The abort reason as an Error (a non-Error reason is wrapped so callers can rely on `.message`). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException(String(reason), 'AbortError');
}
