/** Field/value replies (ACL GETUSER, ACL LOG, SENTINEL REPLICAS, stream entries) read the same way everywhere. */

/** A field/value reply — a RESP2 flat array or a RESP3 map — as a Map. Anything else is empty. */
export function replyFields(reply: unknown): Map<string, unknown> {
  const m = new Map<string, unknown>();
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) m.set(String(reply[i]), reply[i + 1]);
  } else if (reply && typeof reply === 'object') {
    for (const [k, v] of Object.entries(reply)) m.set(k, v);
  }
  return m;
}

/** A scalar field as text; '' when absent or not a string or number. */
export function fieldText(fields: ReadonlyMap<string, unknown>, key: string): string {
  const v = fields.get(key);
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}
