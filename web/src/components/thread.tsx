/**
 * An alert's thread (the reporter, responders and admins): the messages in order, live (the page's feed
 * publishes `alert.message` frames to the hub), and a box to write one (1–1,000 characters). Message text
 * reaches the DOM as text only, never as HTML. Errors (loading, sending) are shown, never dropped.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, listMessages, postMessage } from '../api.js';
import { MESSAGE_MAX, mergeMessages, messageProblem, type MessageHub, type ThreadMessage } from '../dispatch.js';

const clock = (iso: string): string => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const why = (e: unknown): string => (e instanceof ApiError ? e.message : 'unexpected error');

export function Thread(props: { alertId: string; userId: string; hub: MessageHub }) {
  const { alertId, hub } = props;
  const [messages, setMessages] = useState<readonly ThreadMessage[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | undefined>(undefined);
  const [text, setText] = useState('');
  const [sendError, setSendError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const list = useRef<HTMLOListElement>(null);

  useEffect(() => {
    let stopped = false;
    // Subscribed before loading: a message posted meanwhile is merged by id, never lost or doubled.
    const off = hub.subscribe(alertId, (m) => setMessages((t) => mergeMessages(t, [m])));
    listMessages(alertId).then(
      (all) => {
        if (stopped) return;
        setMessages((t) => mergeMessages(t, all));
        setLoaded(true);
      },
      (e: unknown) => {
        if (!stopped) setLoadError(`The thread could not be loaded: ${why(e)}`);
      },
    );
    return () => {
      stopped = true;
      off();
    };
  }, [alertId, hub]);

  // The newest message stays in view.
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length]);

  const send = async (): Promise<void> => {
    const problem = messageProblem(text);
    if (problem) {
      setSendError(problem);
      return;
    }
    setBusy(true);
    setSendError(undefined);
    try {
      const m = await postMessage(alertId, text.trim());
      setMessages((t) => mergeMessages(t, [m]));
      setText('');
    } catch (e) {
      setSendError(`Not sent: ${why(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const chars = [...text.trim()].length;
  return (
    <section class="thread" aria-label="Messages">
      <h3>Messages</h3>
      {loadError && (
        <p class="form-error" role="alert">
          {loadError}
        </p>
      )}
      {loaded && messages.length === 0 && <p class="muted thread-empty">No messages yet.</p>}
      <ol class="messages" ref={list} aria-live="polite">
        {messages.map((m) => (
          <li key={m.id} class={`message${m.by.id === props.userId ? ' mine' : ''}`} data-message-id={m.id}>
            <span class="message-meta muted">
              <strong class="message-by">{m.by.username}</strong> · <time dateTime={m.at}>{clock(m.at)}</time>
            </span>
            <span class="message-text">{m.text}</span>
          </li>
        ))}
      </ol>
      <form
        class="thread-form"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <label class="thread-label">
          <span class="visually-hidden">Message</span>
          <textarea
            value={text}
            rows={2}
            placeholder="Write a message…"
            aria-describedby={`thread-count-${alertId}`}
            onInput={(e) => setText(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void send();
              }
            }}
          />
        </label>
        <div class="thread-actions">
          <span id={`thread-count-${alertId}`} class={`muted thread-count${chars > MESSAGE_MAX ? ' over' : ''}`}>
            {chars} / {MESSAGE_MAX}
          </span>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Sending…' : 'Send'}
          </button>
        </div>
        <div class="form-error" role="alert">
          {sendError}
        </div>
      </form>
    </section>
  );
}
