// Small pieces every page uses: badges (a shape and a word beside the colour, so colour is never the only cue),
// panels, and the loading, empty, error and not-available states.
import type { ComponentChildren, JSX } from 'preact';
import { NotAvailable, ApiError, AuthRequired } from '../api.js';
import type { Loadable } from '../data.js';
import { SEVERITY_LABEL, STATUS_LABEL } from '../format.js';
import type { Severity, Status } from '../types.js';

const SEVERITY_GLYPH: Record<Severity, string> = { critical: '▲', high: '◆', medium: '●', low: '▼', info: '○' };
const STATUS_GLYPH: Record<Status | 'resolved', string> = { fail: '✕', warn: '!', pass: '✓', skip: '–', error: '?', resolved: '✓' };

export function SeverityBadge({ severity, count }: { severity: Severity; count?: number }): JSX.Element {
  return (
    <span class={`badge sev sev-${severity}`}>
      <span class="glyph" aria-hidden="true">{SEVERITY_GLYPH[severity]}</span>
      {SEVERITY_LABEL[severity]}{count === undefined ? null : <b class="count">{count}</b>}
    </span>
  );
}

export function StatusBadge({ status }: { status: Status | 'resolved' }): JSX.Element {
  return (
    <span class={`badge st st-${status}`}>
      <span class="glyph" aria-hidden="true">{STATUS_GLYPH[status]}</span>{STATUS_LABEL[status]}
    </span>
  );
}

export function SeverityGlyph({ severity }: { severity: Severity }): JSX.Element {
  return <span class={`glyph-only sev-fg-${severity}`} aria-hidden="true">{SEVERITY_GLYPH[severity]}</span>;
}

export function Panel(props: { title: ComponentChildren; id?: string; actions?: ComponentChildren; children: ComponentChildren; class?: string }): JSX.Element {
  const headingId = props.id ? `${props.id}-title` : undefined;
  return (
    <section class={`panel ${props.class ?? ''}`} id={props.id} aria-labelledby={headingId}>
      <header class="panel-head">
        <h2 id={headingId}>{props.title}</h2>
        {props.actions ? <div class="panel-actions">{props.actions}</div> : null}
      </header>
      <div class="panel-body">{props.children}</div>
    </section>
  );
}

export function Loading({ label = 'Loading' }: { label?: string }): JSX.Element {
  return (
    <div class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />{label}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }): JSX.Element {
  return (
    <div class="state empty">
      <p class="state-title">{title}</p>
      {children ? <p class="state-text">{children}</p> : null}
    </div>
  );
}

export function Failure({ error }: { error: Error }): JSX.Element {
  if (error instanceof NotAvailable) {
    return (
      <div class="state unavailable" role="note">
        <p class="state-title">Not available from this collector</p>
        <p class="state-text">It does not serve <code>{error.path}</code> yet; a newer collector will fill this panel.</p>
      </div>
    );
  }
  if (error instanceof AuthRequired) {
    return <div class="state error" role="alert"><p class="state-title">Sign-in needed</p><p class="state-text">{error.message}</p></div>;
  }
  const where = error instanceof ApiError && error.parameter ? ` (parameter ${error.parameter})` : '';
  return (
    <div class="state error" role="alert">
      <p class="state-title">{error instanceof ApiError ? `The collector answered ${error.status}` : 'The collector could not be reached'}</p>
      <p class="state-text">{error.message}{where}</p>
    </div>
  );
}

/** Renders a Loadable: loading and error states, or the body with the data. */
export function Show<T>({ data, children, loading }: { data: Loadable<T>; children: (d: T) => ComponentChildren; loading?: string }): JSX.Element {
  if (data.state === 'loading') return <Loading label={loading} />;
  if (data.state === 'error') return <Failure error={data.error} />;
  return <>{children(data.data)}</>;
}

export function Time({ iso, relative }: { iso: string; relative: string }): JSX.Element {
  return <time dateTime={iso} title={new Date(iso).toISOString()}>{relative}</time>;
}
