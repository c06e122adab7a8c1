/**
 * A value the page keeps fresh by asking the server: loaded at once, then again `everyMs` after each answer
 * (never overlapping requests, so a slow server is not piled on), until the component goes or `deps` change.
 * A failure keeps the last value and sets `error` (described by `describe`); the next success clears it.
 */
import { useEffect, useState } from 'preact/hooks';

export function usePoll<T>(load: () => Promise<T>, everyMs: number, describe: (e: unknown) => string, deps: readonly unknown[]): { value: T | undefined; error: string | undefined } {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = async (): Promise<void> => {
      try {
        const v = await load();
        if (stopped) return;
        setValue(v);
        setError(undefined);
      } catch (e) {
        if (!stopped) setError(describe(e));
      }
      if (!stopped) timer = setTimeout(() => void refresh(), everyMs);
    };
    void refresh();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // `load` and `describe` are new functions on every render: `deps` names what they depend on.
  }, deps);
  return { value, error };
}
