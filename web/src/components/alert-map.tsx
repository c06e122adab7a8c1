/**
 * The board's map, on Leaflet (bundled, no CDN): the operator's tile source (MAP_TILES_URL, from
 * `GET /api/map`, with its attribution) or, without one, the bundled offline outline of South Africa and its
 * provinces (Natural Earth). On top: each shown alert's accuracy circle to scale and a dot in its severity's
 * colour; available responders as small labelled dots. Alerts at the same spot are fanned out around it (in
 * screen pixels, again at each zoom), so each stays clickable. Dots are focusable buttons: hover or focus
 * highlights the alert, click / Enter / Space selects it. The view follows the alerts until the user moves
 * the map; "Show all alerts" follows them again.
 *
 * Everything Leaflet draws is SVG or <img> (tiles) with classes; text from the server reaches the DOM as text
 * nodes only, never as HTML (Leaflet's attribution and tooltips take HTML, so they get escaped text or
 * elements). Leaflet positions with CSSOM `el.style`, which the CSP (no inline style attributes) allows.
 */
import 'leaflet/dist/leaflet.css';
import * as L from 'leaflet';
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatAge, place, SEVERITIES, SEVERITY_LABEL, STATUS_LABEL, typeLabel, type Alert, type Basemap, type Responder } from '../model.js';
import { fanOut } from '../map/fan.js';


/** South Africa, mainland (the view before any alert is known). */
const ZA_BOUNDS = L.latLngBounds([-34.9, 16.4], [-22.1, 32.95]);
const OUTLINE_ATTRIBUTION = 'Natural Earth';
const OUTLINE_MAX_ZOOM = 18;
/** Never zoom in further than this when fitting alerts, so a single alert still shows its surroundings. */
const FIT_MAX_ZOOM = 16;
/** Accuracy circles count towards the fitted view up to this radius (one vague alert must not hide the rest). */
const FIT_ACCURACY_CAP_M = 5000;
const DOT_R = 7;
const DOT_R_SELECTED = 9;

/** Leaflet's attribution control and tooltips take HTML: server text goes through this or as an element. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function textElement(text: string, cls: string): HTMLElement {
  const el = document.createElement('span');
  el.className = cls;
  el.textContent = text;
  return el;
}

/** A property of an outline feature (GeoJSON properties are untyped). */
function propertyOf(f: GeoJSON.Feature | undefined, key: string): unknown {
  const props: unknown = f?.properties;
  return typeof props === 'object' && props !== null ? (props as Record<string, unknown>)[key] : undefined;
}

interface AlertLayers {
  alert: Alert;
  readonly dot: L.CircleMarker;
  accuracy: L.Circle | undefined;
  readonly leader: L.Polyline;
}

interface Props {
  alerts: readonly Alert[];
  /** Responders to show (the shape of `GET /api/responders`); the available ones are drawn. */
  responders?: readonly Responder[];
  /** Undefined while the settings load: no base layer yet. */
  basemap: Basemap | undefined;
  now?: number;
  selectedId: string | undefined;
  hoverId: string | undefined;
  onSelect: (id: string) => void;
  onHover: (id: string | undefined) => void;
}

const markerLabel = (a: Alert): string => `${SEVERITY_LABEL[a.severity]} ${typeLabel(a.type)} alert at ${place(a)}, ${STATUS_LABEL[a.status]}`;

export function AlertMap(props: Props) {
  const el = useRef<HTMLDivElement>(null);
  const mapRef = useRef<L.Map | undefined>(undefined);
  const [ready, setReady] = useState(false);
  const [zoom, setZoom] = useState(0);
  const propsRef = useRef(props);
  propsRef.current = props;
  const layers = useRef(new Map<string, AlertLayers>());
  const groups = useRef<{ accuracy: L.LayerGroup; leaders: L.LayerGroup; dots: L.LayerGroup; responders: L.LayerGroup } | undefined>(undefined);
  /** True once the user moved the map: the view stops following the alerts. */
  const userMoved = useRef(false);
  const programmatic = useRef(false);

  const moveProgrammatically = (fn: (map: L.Map) => void): void => {
    const map = mapRef.current;
    if (!map) return;
    programmatic.current = true;
    try {
      fn(map);
    } finally {
      programmatic.current = false;
    }
  };

  const fitAlerts = (): void => {
    const shown = propsRef.current.alerts;
    moveProgrammatically((map) => {
      if (shown.length === 0) {
        map.fitBounds(ZA_BOUNDS, { animate: false });
        return;
      }
      const bounds = L.latLngBounds([]);
      for (const a of shown) {
        const at = L.latLng(a.location.lat, a.location.lon);
        bounds.extend(at);
        if (a.location.accuracy_m) bounds.extend(at.toBounds(2 * Math.min(a.location.accuracy_m, FIT_ACCURACY_CAP_M)));
      }
      map.fitBounds(bounds, { animate: false, padding: [28, 28], maxZoom: FIT_MAX_ZOOM });
    });
  };

  // The map itself: created once, removed with the component.
  useEffect(() => {
    const container = el.current;
    if (!container) return;
    const map = L.map(container, { zoomControl: true, attributionControl: true, minZoom: 3, worldCopyJump: false, zoomSnap: 0.25 });
    map.attributionControl.setPrefix(false);
    map.createPane('outline').style.zIndex = '250';
    map.createPane('accuracy').style.zIndex = '410';
    map.createPane('responders').style.zIndex = '440';
    map.createPane('alerts').style.zIndex = '450';
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
    const FitControl = L.Control.extend({
      onAdd: () => {
        const button = L.DomUtil.create('button', 'map-fit');
        button.type = 'button';
        button.textContent = 'Show all alerts';
        L.DomEvent.disableClickPropagation(button);
        L.DomEvent.on(button, 'click', () => {
          userMoved.current = false;
          fitAlerts();
        });
        return button;
      },
    });
    new FitControl({ position: 'topright' }).addTo(map);
    groups.current = {
      accuracy: L.layerGroup().addTo(map),
      leaders: L.layerGroup().addTo(map),
      responders: L.layerGroup().addTo(map),
      dots: L.layerGroup().addTo(map),
    };
    map.fitBounds(ZA_BOUNDS, { animate: false });
    map.on('dragstart', () => {
      userMoved.current = true;
    });
    map.on('zoomstart', () => {
      if (!programmatic.current) userMoved.current = true;
    });
    map.on('zoomend', () => setZoom(map.getZoom()));
    const ro = new ResizeObserver(() => map.invalidateSize({ pan: false }));
    ro.observe(container);
    mapRef.current = map;
    setReady(true);
    return () => {
      ro.disconnect();
      map.remove();
      mapRef.current = undefined;
      layers.current.clear();
    };
  }, []);

  // The base layer: the operator's tiles, or the offline outline (loaded on demand: a chunk of its own).
  useEffect(() => {
    const map = mapRef.current;
    const basemap = props.basemap;
    if (!map || !basemap) return;
    let base: L.Layer | undefined;
    let cancelled = false;
    const container = map.getContainer();
    container.dataset['basemap'] = basemap.kind;
    if (basemap.kind === 'tiles') {
      map.setMaxZoom(basemap.maxZoom);
      base = L.tileLayer(basemap.url, { maxZoom: basemap.maxZoom, attribution: escapeHtml(basemap.attribution), className: 'map-tiles' }).addTo(map);
    } else {
      map.setMaxZoom(OUTLINE_MAX_ZOOM);
      void import('../map/za-outline.json').then((mod) => {
        if (cancelled || !mapRef.current) return;
        const data = mod.default as unknown as GeoJSON.FeatureCollection;
        base = L.geoJSON(data, {
          pane: 'outline',
          interactive: true,
          attribution: OUTLINE_ATTRIBUTION,
          style: (f) => {
            const kind = propertyOf(f, 'kind') === 'province' ? 'province' : 'country';
            return { className: `outline ${kind}`, fill: kind === 'province', stroke: true, weight: kind === 'country' ? 2 : 1 };
          },
          onEachFeature: (f, layer) => {
            const name = propertyOf(f, 'name');
            if (propertyOf(f, 'kind') === 'province' && typeof name === 'string') {
              layer.bindTooltip(textElement(name, 'province-name'), { sticky: true, direction: 'top', className: 'province-tooltip' });
            }
          },
        }).addTo(map);
        // The provinces' codes on their paths (tests and styling); added after the layer is on the map.
        (base as L.GeoJSON).eachLayer((layer) => {
          const path = layer as L.Path & { feature?: GeoJSON.Feature };
          const code = propertyOf(path.feature, 'code');
          if (typeof code === 'string') path.getElement()?.setAttribute('data-code', code);
        });
      });
    }
    return () => {
      cancelled = true;
      if (base) map.removeLayer(base);
      delete container.dataset['basemap'];
    };
  }, [ready, props.basemap]);

  // Alerts: one set of layers per alert, kept (and updated in place) while the alert is shown, so a focused
  // marker keeps its focus when the board re-renders.
  useEffect(() => {
    const map = mapRef.current;
    const g = groups.current;
    if (!map || !g) return;
    const shown = new Map(props.alerts.map((a) => [a.id, a]));
    for (const [id, l] of layers.current) {
      if (shown.has(id)) continue;
      g.dots.removeLayer(l.dot);
      g.leaders.removeLayer(l.leader);
      if (l.accuracy) g.accuracy.removeLayer(l.accuracy);
      layers.current.delete(id);
    }
    for (const a of props.alerts) {
      const at = L.latLng(a.location.lat, a.location.lon);
      let l = layers.current.get(a.id);
      if (!l) {
        const dot = L.circleMarker(at, { pane: 'alerts', radius: DOT_R, className: 'marker', bubblingMouseEvents: false });
        const id = a.id;
        dot.on('click', () => propsRef.current.onSelect(id));
        dot.on('mouseover', () => propsRef.current.onHover(id));
        dot.on('mouseout', () => propsRef.current.onHover(undefined));
        dot.addTo(g.dots);
        const path = dot.getElement();
        if (path) {
          path.setAttribute('tabindex', '0');
          path.setAttribute('role', 'button');
          path.setAttribute('data-alert-id', id);
          path.appendChild(document.createElementNS('http://www.w3.org/2000/svg', 'title'));
          path.addEventListener('keydown', (e) => {
            const ke = e as KeyboardEvent;
            if (ke.key !== 'Enter' && ke.key !== ' ') return;
            ke.preventDefault();
            propsRef.current.onSelect(id);
          });
          path.addEventListener('focus', () => propsRef.current.onHover(id));
          path.addEventListener('blur', () => propsRef.current.onHover(undefined));
        }
        const leader = L.polyline([at, at], { pane: 'alerts', className: 'leader', interactive: false });
        leader.addTo(g.leaders);
        l = { alert: a, dot, accuracy: undefined, leader };
        layers.current.set(a.id, l);
      }
      l.alert = a;
      const acc = a.location.accuracy_m;
      if (acc) {
        if (!l.accuracy) {
          l.accuracy = L.circle(at, { pane: 'accuracy', radius: acc, className: 'accuracy', interactive: false }).addTo(g.accuracy);
          l.accuracy.getElement()?.setAttribute('data-alert-id', a.id);
        } else {
          l.accuracy.setLatLng(at);
          l.accuracy.setRadius(acc);
        }
      } else if (l.accuracy) {
        g.accuracy.removeLayer(l.accuracy);
        l.accuracy = undefined;
      }
    }
    if (!userMoved.current) fitAlerts();
  }, [ready, props.alerts]);

  // Classes, labels, sizes and paint order follow the selection and hover; positions fan out at this zoom.
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    const all = [...layers.current.values()];
    const spots = fanOut(
      all.map((l) => {
        const p = map.latLngToLayerPoint([l.alert.location.lat, l.alert.location.lon]);
        return { id: l.alert.id, x: p.x, y: p.y };
      }),
    );
    for (const l of all) {
      const a = l.alert;
      const selected = a.id === props.selectedId;
      const spot = spots.get(a.id);
      const at = L.latLng(a.location.lat, a.location.lon);
      const drawn = spot && (spot.dx !== 0 || spot.dy !== 0) ? map.layerPointToLatLng(map.latLngToLayerPoint(at).add([spot.dx, spot.dy])) : at;
      l.dot.setLatLng(drawn);
      l.leader.setLatLngs([at, drawn]);
      l.dot.setRadius(selected ? DOT_R_SELECTED : DOT_R);
      const path = l.dot.getElement();
      if (path) {
        const cls = ['leaflet-interactive', 'marker', `sev-${a.severity}`, `st-${a.status}`, selected ? 'selected' : '', a.id === props.hoverId ? 'hovered' : ''].filter(Boolean).join(' ');
        if (path.getAttribute('class') !== cls) path.setAttribute('class', cls);
        const label = markerLabel(a);
        path.setAttribute('aria-label', label);
        path.setAttribute('aria-pressed', String(selected));
        const title = path.querySelector('title');
        if (title && title.textContent !== label) title.textContent = label;
      }
      const accEl = l.accuracy?.getElement();
      if (accEl) accEl.setAttribute('class', `accuracy sev-${a.severity}${selected ? ' selected' : ''}`);
    }
    // Paint order: low first, critical last, the hovered and selected alerts on top of everything. (A focused
    // dot is not moved: moving a node in the DOM takes its keyboard focus away.)
    const rank = (a: Alert): number => (a.id === props.selectedId ? 10 : a.id === props.hoverId ? 9 : SEVERITIES.indexOf(a.severity) + 1);
    const focused = document.activeElement;
    for (const l of [...all].sort((p, q) => rank(p.alert) - rank(q.alert))) {
      const path = l.dot.getElement();
      if (path && path !== focused) l.dot.bringToFront();
    }
  }, [ready, props.alerts, props.selectedId, props.hoverId, zoom]);

  // The selected alert is brought into view (without changing the zoom).
  useEffect(() => {
    const map = mapRef.current;
    const a = props.selectedId ? layers.current.get(props.selectedId)?.alert : undefined;
    if (!map || !a) return;
    moveProgrammatically((m) => m.panInside([a.location.lat, a.location.lon], { padding: [24, 24], animate: false }));
  }, [ready, props.selectedId]);

  // Responders: small labelled dots, drawn again on every change (a handful, none focusable).
  useEffect(() => {
    const g = groups.current;
    if (!g) return;
    g.responders.clearLayers();
    for (const r of props.responders ?? []) {
      if (!r.available) continue;
      const at = L.latLng(r.lat, r.lon);
      const seen = props.now === undefined ? '' : ` · seen ${formatAge(r.last_seen, props.now)} ago`;
      if (r.accuracy_m) L.circle(at, { pane: 'responders', radius: r.accuracy_m, className: 'responder-accuracy', interactive: false }).addTo(g.responders);
      const dot = L.circleMarker(at, { pane: 'responders', radius: 5, className: 'responder', interactive: true }).addTo(g.responders);
      dot.bindTooltip(textElement(r.username, 'responder-name'), { permanent: true, direction: 'right', offset: [6, 0], className: 'responder-label' });
      const path = dot.getElement();
      if (path) {
        path.setAttribute('data-username', r.username);
        path.setAttribute('aria-label', `Responder ${r.username}${seen}`);
        const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
        title.textContent = `Responder ${r.username}${seen}`;
        path.appendChild(title);
      }
    }
  }, [ready, props.responders, props.now === undefined ? 0 : Math.floor(props.now / 60_000)]);

  // The container's accessible name follows the count.
  useEffect(() => {
    el.current?.setAttribute('aria-label', `Map of ${props.alerts.length} alerts`);
  }, [props.alerts.length]);

  return (
    <div class="map-wrap">
      <div class="map" ref={el} role="group" />
      {props.alerts.length === 0 && (
        <p class="map-empty" aria-hidden="true">
          No alerts to show
        </p>
      )}
    </div>
  );
}
