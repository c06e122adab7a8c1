/**
 * The map component alone, for the browser test of its props (test/browser/map-component.test.ts builds this
 * page into a temporary directory; the dashboard's build never includes it). The test calls
 * `window.naboomMapHarness.render({...})` with alerts, responders and a basemap.
 */
import { render } from 'preact';
import { AlertMap } from '../components/alert-map.js';
import type { Alert, Basemap, Responder } from '../model.js';
import '../styles.css';

interface HarnessProps {
  readonly alerts: readonly Alert[];
  readonly responders?: readonly Responder[];
  readonly basemap: Basemap;
  readonly now?: number;
  readonly selectedId?: string;
}

declare global {
  interface Window {
    naboomMapHarness?: { render(p: HarnessProps): void; selected: string[] };
  }
}

const root = document.getElementById('app');
const selected: string[] = [];
window.naboomMapHarness = {
  selected,
  render: (p) => {
    if (!root) return;
    render(
      <div class="panel map-panel harness">
        <AlertMap
          alerts={p.alerts}
          {...(p.responders ? { responders: p.responders } : {})}
          basemap={p.basemap}
          {...(p.now === undefined ? {} : { now: p.now })}
          selectedId={p.selectedId}
          hoverId={undefined}
          onSelect={(id) => selected.push(id)}
          onHover={() => undefined}
        />
      </div>,
      root,
    );
  },
};
