/**
 * Per-turn batching: calls made during one turn of the event loop are run together when it ends
 * (`setImmediate`), so N concurrent requests cost one Redis script call instead of N — fewer commands to
 * encode in Node and far less per-call work in Redis. Under light load a batch holds one call and waits for
 * nothing: the flush runs as soon as the current I/O callbacks are done.
 *
 * Each caller gets its own result; when the batch as a whole fails, every caller in it gets that error.
 */
export type BatchRunner<I, O> = (items: readonly I[]) => Promise<readonly O[]>;

interface Pending<I, O> {
  readonly item: I;
  readonly resolve: (out: O) => void;
  readonly reject: (err: unknown) => void;
}

export class TurnBatcher<I, O> {
  readonly #run: BatchRunner<I, O>;
  readonly #max: number;
  #pending: Pending<I, O>[] = [];
  #scheduled: NodeJS.Immediate | undefined;

  /** `maxBatch` bounds one call (script arguments, reply size); more items start another batch. */
  constructor(run: BatchRunner<I, O>, maxBatch = 128) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    this.#run = run;
    this.#max = maxBatch;
  }

  /** Items waiting for the end of this turn. */
  get pending(): number {
    return this.#pending.length;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#pending.length >= this.#max) this.#flush();
      else this.#scheduled ??= setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    let started: Promise<readonly O[]>;
    try {
      started = this.#run(batch.map((p) => p.item));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    started.then(
      (out) => {
        if (out.length !== batch.length) {
          const err = new Error(`batch runner returned ${out.length} results for ${batch.length} items`);
          for (const p of batch) p.reject(err);
          return;
        }
        batch.forEach((p, i) => p.resolve(out[i] as O));
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }
}
