/** The login form on `/`: posts to /api/auth/login, which sets the session cookie. */
import { useState } from 'preact/hooks';
import { ApiError, login } from '../api.js';
import type { User } from '../model.js';

export function Login(props: { notice: string | undefined; onLogin: (u: User) => void; title?: string; lead?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const submit = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      props.onLogin(await login(username.trim(), password));
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'Sign-in failed');
      setBusy(false);
    }
  };

  const message = error ?? props.notice;
  return (
    <main class="login">
      <form
        class="login-card"
        aria-labelledby="login-title"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h1 id="login-title">
          <span class="brand-mark" aria-hidden="true" /> {props.title ?? 'Naboom operator dashboard'}
        </h1>
        <p class="muted">{props.lead ?? 'Sign in with your Naboom account to see alerts live.'}</p>
        <label for="login-username">Username</label>
        <input
          id="login-username"
          name="username"
          autocomplete="username"
          required
          autofocus
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="login-password">Password</label>
        <input
          id="login-password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <div class="form-error" role="alert">
          {message}
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
