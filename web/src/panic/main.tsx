/** Entry point of the resident's panic page (`/panic`): registers the service worker, mounts the page. */
import { render } from 'preact';
import '../styles.css';
import '../dispatch.css';
import './panic.css';
import { PanicApp } from './panic-app.js';

if ('serviceWorker' in navigator) {
  // The worker caches this page for an offline start and sends queued alerts when the network returns.
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
}

const root = document.getElementById('app');
if (root) render(<PanicApp />, root);
