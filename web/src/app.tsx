/** Signed out → the login form; signed in → the dashboard. The session lives in an HttpOnly cookie. */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, me } from './api.js';
import { Dashboard } from './components/dashboard.js';
import { Login } from './components/login.js';
import type { User } from './model.js';

export function App() {
  // undefined while asking the server whether a session exists.
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);

  useEffect(() => {
    me().then(setUser, (e: unknown) => {
      setNotice(e instanceof ApiError ? e.message : 'The server cannot be reached');
      setUser(null);
    });
  }, []);

  if (user === undefined) {
    return (
      <p class="loading" role="status">
        Loading…
      </p>
    );
  }
  if (!user) {
    return (
      <Login
        notice={notice}
        onLogin={(u) => {
          setNotice(undefined);
          setUser(u);
        }}
      />
    );
  }
  return (
    <Dashboard
      user={user}
      onSignedOut={(why) => {
        setNotice(why);
        setUser(null);
      }}
    />
  );
}
