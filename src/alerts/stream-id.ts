/**
 * Redis stream ids as clients send them (list cursors, `:id` params, SSE `since` / `Last-Event-ID`, WS
 * `since`). Redis parses each part as an unsigned 64-bit integer and rejects anything larger with an error,
 * so an id that only matches `digits-digits` can still turn a request into a Redis error: check the range
 * here, before any command is sent.
 */

/** The largest value of either part of a stream id (2^64 - 1). */
export const STREAM_ID_PART_MAX = 18_446_744_073_709_551_615n;

/** The largest stream id Redis accepts. */
export const MAX_STREAM_ID = `${STREAM_ID_PART_MAX}-${STREAM_ID_PART_MAX}`;

const SHAPE = /^(\d{1,20})-(\d{1,20})$/;

/** The two parts of a valid stream id, or `undefined` for anything Redis would reject. */
export function parseStreamId(id: string): readonly [bigint, bigint] | undefined {
  const m = SHAPE.exec(id);
  if (!m) return undefined;
  const ms = BigInt(m[1] ?? '');
  const seq = BigInt(m[2] ?? '');
  return ms <= STREAM_ID_PART_MAX && seq <= STREAM_ID_PART_MAX ? [ms, seq] : undefined;
}

/** True when `id` is `ms-seq` with both parts unsigned 64-bit integers (what XADD/XRANGE accept). */
export const isStreamId = (id: string): boolean => parseStreamId(id) !== undefined;

/** True for the smallest id (`0-0`, however written): nothing lies before it, and `(0-0` is an error. */
export function isMinStreamId(id: string): boolean {
  const p = parseStreamId(id);
  return p !== undefined && p[0] === 0n && p[1] === 0n;
}

/** True for the largest id: nothing lies after it, and `(` before it is an error. */
export function isMaxStreamId(id: string): boolean {
  const p = parseStreamId(id);
  return p !== undefined && p[0] === STREAM_ID_PART_MAX && p[1] === STREAM_ID_PART_MAX;
}
