// A real browser for UI tests: Debian's Chromium driven by playwright-core (no browser download). Every page
// records its console errors, page errors, failed requests and the URL of every request, so a test can assert
// "no console error" and "no request left the origin".
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import { findBinary } from './integration.js';

/** Chromium from Debian (`apt-get install chromium`, .ci/run), or VIGIL_CHROMIUM. */
export function findChromium(): string | undefined {
  const fromEnv = process.env.VIGIL_CHROMIUM;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return findBinary('chromium', ['/usr/bin/chromium']) ?? findBinary('chromium-browser');
}

export async function launchBrowser(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox', // as root, Chromium's sandbox refuses to start
      '--disable-background-networking', // no update checks, no safe-browsing lists: nothing leaves the machine
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-sync',
      '--no-first-run',
      '--no-default-browser-check',
      '--metrics-recording-only',
      '--disable-dev-shm-usage',
      '--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions',
    ],
  });
}

export interface PageRecord {
  page: Page;
  /** Console messages of type error (and warnings about the content-security-policy). */
  consoleErrors: string[];
  pageErrors: string[];
  /** Every request the page made (documents, scripts, fetches), in order. */
  requests: string[];
  failedRequests: string[];
}

interface PageOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
}

/** A fresh context (own storage) and page, with everything it does recorded. */
export async function openPage(browser: Browser, opts: PageOptions = {}): Promise<PageRecord & { context: BrowserContext }> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    colorScheme: opts.colorScheme ?? 'light',
    serviceWorkers: 'block',
  });
  const page = await context.newPage();
  const record: PageRecord & { context: BrowserContext } = { context, page, consoleErrors: [], pageErrors: [], requests: [], failedRequests: [] };
  page.on('console', (m: ConsoleMessage) => {
    const text = m.text();
    if (m.type() === 'error' || /Content[- ]Security[- ]Policy/i.test(text)) {
      const at = m.location();
      record.consoleErrors.push(`${text}${at.url ? ` (${at.url}:${at.lineNumber})` : ''}`);
    }
  });
  page.on('pageerror', (err) => record.pageErrors.push(String(err.stack ?? err)));
  page.on('request', (r) => record.requests.push(r.url()));
  page.on('requestfailed', (r) => {
    // A stream the page itself aborts (navigating away) is not a failure of the page.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') record.failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`);
  });
  return record;
}

/** Requests whose origin is not `origin` (data: and blob: URLs stay inside the page, about:blank too). */
export function foreignRequests(requests: readonly string[], origin: string): string[] {
  return requests.filter((u) => {
    if (/^(data|blob|about):/.test(u)) return false;
    try { return new URL(u).origin !== origin; } catch { return true; }
  });
}
