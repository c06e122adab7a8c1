/**
 * The liveness answer: the process is up and its event loop turns. Nothing is checked (readiness does that),
 * so the API's `/health/live` and the worker's answer with the same body from this one place.
 */

export interface LiveBody {
  readonly status: 'ok';
}

/** The body of every `/health/live` answer (API and worker). */
export function liveBody(): LiveBody {
  return { status: 'ok' };
}
