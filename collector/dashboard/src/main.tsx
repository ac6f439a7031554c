// The dashboard's shell: header, navigation, theme, the token prompt, the live indicator, and the page for the
// current address.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import type { JSX } from 'preact';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { AuthRequired, onAuthRequired, token } from './api.js';
import { onLiveState, startLive, announceChange, type LiveState } from './live.js';
import { useRoute, type Route } from './router.js';
import { Overview } from './pages/overview.js';
import { Findings } from './pages/findings.js';
import { NodePage } from './pages/node.js';
import { Drift } from './pages/drift.js';
import { AttackPaths } from './pages/attack-paths.js';
import { Empty } from './components/ui.js';

type Theme = 'system' | 'light' | 'dark';
const THEME_KEY = 'vigil.theme';

function readTheme(): Theme {
  const t = localStorage.getItem(THEME_KEY);
  return t === 'light' || t === 'dark' ? t : 'system';
}

function applyTheme(t: Theme): void {
  if (t === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
  window.dispatchEvent(new Event('vigil-theme'));
}

const NAV: Array<{ path: string; label: string; match: string }> = [
  { path: '#/', label: 'Overview', match: '' },
  { path: '#/findings', label: 'Findings', match: 'findings' },
  { path: '#/drift', label: 'Drift', match: 'drift' },
  { path: '#/attack-paths', label: 'Attack paths', match: 'attack-paths' },
];

const LIVE_TEXT: Record<LiveState, [string, string]> = {
  connecting: ['Connecting', 'Connecting to the live feed'],
  live: ['Live', 'Changes appear as the collector stores them'],
  polling: ['Polling', 'This collector has no live feed; the page checks for changes every 10 seconds'],
  offline: ['Offline', 'The collector cannot be reached; retrying'],
  off: ['Paused', 'Live updates pause until a token is entered'],
};

function ThemeToggle(): JSX.Element {
  const [theme, setTheme] = useState<Theme>(readTheme);
  const next: Record<Theme, Theme> = { system: 'light', light: 'dark', dark: 'system' };
  return (
    <button type="button" class="icon-button" onClick={() => {
      const t = next[theme];
      if (t === 'system') localStorage.removeItem(THEME_KEY); else localStorage.setItem(THEME_KEY, t);
      applyTheme(t);
      setTheme(t);
    }} aria-label={`Theme: ${theme}. Switch to ${next[theme]}`} title={`Theme: ${theme}`}>
      <span aria-hidden="true">{theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'}</span>
      <span class="theme-name">{theme}</span>
    </button>
  );
}

function LiveIndicator(): JSX.Element {
  const [state, setState] = useState<LiveState>('off');
  useEffect(() => onLiveState(setState), []);
  const [text, title] = LIVE_TEXT[state];
  return <span class={`live live-${state}`} title={title} role="status" data-testid="live-state"><span class="dot" aria-hidden="true" />{text}</span>;
}

function TokenPrompt({ reason, onDone }: { reason: string; onDone: () => void }): JSX.Element {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <div class="page token-page">
      <form class="token-form" onSubmit={(e) => {
        e.preventDefault();
        const value = input.current?.value.trim() ?? '';
        if (!value) return;
        token.set(value);
        onDone();
      }}>
        <h1>Sign in to this collector</h1>
        <p>{reason}</p>
        <p class="muted">Enter a token with the <code>read</code> role from the collector's <code>--tokens</code> file. It is kept in this browser tab only (session storage) and sent as <code>Authorization: Bearer</code>.</p>
        <label for="token">Read token</label>
        <input id="token" ref={input} type="password" autocomplete="off" spellcheck={false} required />
        <button type="submit" class="primary">Sign in</button>
      </form>
    </div>
  );
}

function Page({ route }: { route: Route }): JSX.Element {
  switch (route.parts[0] ?? '') {
    case '': return <Overview />;
    case 'findings': return <Findings route={route} />;
    case 'nodes': return route.parts[1] ? <NodePage route={route} /> : <Overview />;
    case 'drift': return <Drift />;
    case 'attack-paths': return <AttackPaths route={route} />;
    default:
      return <div class="page"><Empty title="No such page">Nothing lives at this address. <a href="#/">Go to the overview</a>.</Empty></div>;
  }
}

const TITLES: Record<string, string> = { '': 'Overview', findings: 'Findings', nodes: 'Node', drift: 'Drift', 'attack-paths': 'Attack paths' };

function App(): JSX.Element {
  const route = useRoute();
  const [auth, setAuth] = useState<AuthRequired | null>(null);
  const [session, setSession] = useState(0);
  const main = useRef<HTMLElement>(null);
  const section = route.parts[0] ?? '';
  const pageKey = `${section}/${route.parts[1] ?? ''}`;
  const firstRender = useRef(true);

  useEffect(() => onAuthRequired((err) => setAuth(err)), []);
  useEffect(() => { startLive(); }, [session]);
  useEffect(() => {
    document.title = `${route.parts[1] ?? TITLES[section] ?? 'Vigil'} · Vigil`;
    // A new page (not a new filter): move focus to it, as a page load would.
    if (firstRender.current) { firstRender.current = false; return; }
    main.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [pageKey]);

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>Skip to content</a>
      <header class="top">
        <a class="brand" href="#/" aria-label="Vigil overview">
          <svg viewBox="0 0 32 32" aria-hidden="true"><path d="M16 2 4 7v8c0 7.4 5.1 13.6 12 15 6.9-1.4 12-7.6 12-15V7z" class="brand-shield" /><path d="m10 16 4 4 8-9" class="brand-check" /></svg>
          <span>Vigil</span>
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.path}>
                <a href={n.path} aria-current={section === n.match || (n.match === '' && section === 'nodes') ? 'page' : undefined}>{n.label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="top-tools">
          <LiveIndicator />
          <ThemeToggle />
          {token.get() ? <button type="button" class="icon-button" onClick={() => { token.clear(); location.reload(); }}>Sign out</button> : null}
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {auth
          ? <TokenPrompt reason={auth.status === 403 ? 'This token lacks the read role.' : token.get() ? 'The collector did not accept the token.' : 'This collector asks for a token.'}
            onDone={() => { setAuth(null); setSession((s) => s + 1); announceChange(); }} />
          : <Page key={`${pageKey}#${session}`} route={route} />}
      </main>
      <footer class="foot">
        <span>Vigil · data from this collector only; nothing leaves this page.</span>
        <a href="api/v1/openapi.json">API</a>
      </footer>
    </>
  );
}

applyTheme(readTheme());
render(<App />, document.getElementById('app')!);
