/**
 * A map without internet tiles: the shown alerts on an SVG that fits their bounding box (equirectangular,
 * padded), each with its accuracy circle to scale. The SVG takes the pixel size of its box, so markers keep
 * their size at any screen width. Alerts at the same spot are fanned out around it, so each stays clickable.
 * Markers are focusable buttons: hover or focus highlights the alert, click / Enter / Space selects it.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { fitProjection, scaleBar } from '../projection.js';
import { place, SEVERITIES, SEVERITY_LABEL, STATUS_LABEL, typeLabel, type Alert } from '../model.js';

const GRID = 80;
const FAN_CELL = 8;

interface Placed {
  readonly alert: Alert;
  /** The alert's true position. */
  readonly x: number;
  readonly y: number;
  /** Where its marker is drawn (moved off the true position when several alerts share it). */
  readonly mx: number;
  readonly my: number;
}

/** The pixel size of an element, followed as it changes. */
function useSize(fallback: { w: number; h: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState(fallback);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = (): void => {
      const w = Math.round(el.clientWidth);
      const h = Math.round(el.clientHeight);
      if (w > 0 && h > 0) setSize((s) => (s.w === w && s.h === h ? s : { w, h }));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return { ref, size };
}

export function AlertMap(props: {
  alerts: readonly Alert[];
  selectedId: string | undefined;
  hoverId: string | undefined;
  onSelect: (id: string) => void;
  onHover: (id: string | undefined) => void;
}) {
  const { ref, size } = useSize({ w: 640, h: 400 });
  const { w: W, h: H } = size;
  const proj = useMemo(() => fitProjection(props.alerts.map((a) => a.location), W, H, 28), [props.alerts, W, H]);

  const placed = useMemo((): Placed[] => {
    const cells = new Map<string, Alert[]>();
    const at = new Map<string, { x: number; y: number }>();
    for (const a of props.alerts) {
      const p = proj.project(a.location);
      at.set(a.id, p);
      const key = `${Math.round(p.x / FAN_CELL)}:${Math.round(p.y / FAN_CELL)}`;
      cells.set(key, [...(cells.get(key) ?? []), a]);
    }
    const out: Placed[] = [];
    for (const group of cells.values()) {
      const r = group.length > 1 ? 12 + 2 * group.length : 0;
      group.forEach((alert, i) => {
        const p = at.get(alert.id) ?? { x: 0, y: 0 };
        const angle = (2 * Math.PI * i) / group.length - Math.PI / 2;
        out.push({ alert, x: p.x, y: p.y, mx: p.x + r * Math.cos(angle), my: p.y + r * Math.sin(angle) });
      });
    }
    return out;
  }, [props.alerts, proj]);

  // Paint order: low first, critical last, the hovered and selected alerts on top of everything.
  const rank = (a: Alert): number => (a.id === props.selectedId ? 10 : a.id === props.hoverId ? 9 : SEVERITIES.indexOf(a.severity) + 1);
  const ordered = [...placed].sort((p, q) => rank(p.alert) - rank(q.alert));
  const bar = scaleBar(proj, Math.min(160, W / 3));
  const grid: number[] = [];
  for (let v = GRID; v < Math.max(W, H); v += GRID) grid.push(v);

  return (
    <div class="map-wrap" ref={ref}>
      <svg class="map" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="group" aria-label={`Map of ${props.alerts.length} alerts`}>
        <rect class="map-bg" x={0} y={0} width={W} height={H} />
        <g class="map-grid" aria-hidden="true">
          {grid.map((v) => (
            <g key={v}>
              {v < W && <line x1={v} y1={0} x2={v} y2={H} />}
              {v < H && <line x1={0} y1={v} x2={W} y2={v} />}
            </g>
          ))}
        </g>
        <g class="map-north" aria-hidden="true" transform={`translate(${W - 24} 30)`}>
          <path d="M0 -16 L7 6 L0 1 L-7 6 Z" />
          <text y={20} text-anchor="middle">
            N
          </text>
        </g>
        <g class="map-scale" aria-hidden="true" transform={`translate(16 ${H - 18})`}>
          <line x1={0} y1={0} x2={bar.units} y2={0} />
          <line x1={0} y1={-5} x2={0} y2={5} />
          <line x1={bar.units} y1={-5} x2={bar.units} y2={5} />
          <text x={bar.units + 6} y={4}>
            {bar.label}
          </text>
        </g>
        {props.alerts.length === 0 && (
          <text class="map-empty" x={W / 2} y={H / 2} text-anchor="middle">
            No alerts to show
          </text>
        )}
        <g class="accuracy-layer" aria-hidden="true">
          {ordered.map(({ alert: a, x, y }) =>
            a.location.accuracy_m ? (
              <circle
                key={a.id}
                class={`accuracy sev-${a.severity}${a.id === props.selectedId ? ' selected' : ''}`}
                data-alert-id={a.id}
                cx={x.toFixed(1)}
                cy={y.toFixed(1)}
                r={proj.metres(a.location.accuracy_m).toFixed(1)}
              />
            ) : null,
          )}
        </g>
        {ordered.map(({ alert: a, x, y, mx, my }) => {
          const selected = a.id === props.selectedId;
          const label = `${SEVERITY_LABEL[a.severity]} ${typeLabel(a.type)} alert at ${place(a)}, ${STATUS_LABEL[a.status]}`;
          return (
            <g
              key={a.id}
              class={`marker sev-${a.severity} st-${a.status}${selected ? ' selected' : ''}${a.id === props.hoverId ? ' hovered' : ''}`}
              data-alert-id={a.id}
              transform={`translate(${mx.toFixed(1)} ${my.toFixed(1)})`}
              tabIndex={0}
              role="button"
              aria-label={label}
              aria-pressed={selected}
              onClick={() => props.onSelect(a.id)}
              onKeyDown={(e) => {
                if (e.key !== 'Enter' && e.key !== ' ') return;
                e.preventDefault();
                props.onSelect(a.id);
              }}
              onMouseEnter={() => props.onHover(a.id)}
              onMouseLeave={() => props.onHover(undefined)}
              onFocus={() => props.onHover(a.id)}
              onBlur={() => props.onHover(undefined)}
            >
              <title>{label}</title>
              {(mx !== x || my !== y) && <line class="leader" x1={0} y1={0} x2={(x - mx).toFixed(1)} y2={(y - my).toFixed(1)} />}
              <circle class="focus-ring" r={14} />
              <circle class="dot" r={selected ? 9 : 7} />
            </g>
          );
        })}
      </svg>
    </div>
  );
}
