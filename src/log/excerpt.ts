/** A short, single-line excerpt of a remote HTTP answer (a webhook receiver, a push service) for a failure reason. */
export async function responseExcerpt(res: Response): Promise<string> {
  try {
    const text = (await res.text()).replace(/\s+/g, ' ').trim();
    return text ? `: ${text.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
