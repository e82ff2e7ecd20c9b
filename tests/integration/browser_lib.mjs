// Headless Chromium for the browser tests: Debian's chromium driven by
// playwright-core, fresh profile, no network beyond what the page asks for.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';
export const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Resolves to {ctx, page, close}; null when chromium is not installed.
export async function launchBrowser({ timeout = 20000, args = [], viewport = { width: 1280, height: 1000 } } = {}) {
  if (!fs.existsSync(CHROMIUM)) return null;
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, timeout, viewport, args: [...BROWSER_ARGS, ...args],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const close = async () => {
    await ctx.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { ctx, page, close };
}
