// The README's screenshots, made from `roomlog demo` data: scripts/e2e starts a second server
// (ROOMLOG_DEMO_URL) whose database `roomlog demo --seed 7 --until 2025-10-28T12:00:00Z` filled,
// so the pictures are the same on every run. Also checks that a demo room reads at a glance:
// one timeline bar per participant session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (scripts/e2e sets it)`);
  return value;
};
const BASE = env('ROOMLOG_DEMO_URL');
const DOCS = join(resolve(import.meta.dirname, '..'), 'docs');

let profile;
let context;
let page;

before(async () => {
  mkdirSync(DOCS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), 'roomlog-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('the demo rooms are listed after signing in (README screenshot of the rooms page)', async () => {
  await page.goto(`${BASE}/`);
  await page.fill('#username', env('ROOMLOG_ACCOUNT_SID'));
  await page.fill('#password', env('ROOMLOG_AUTH_TOKEN'));
  await Promise.all([page.waitForNavigation(), page.click('form[action="/sign-in"] button[type=submit]')]);
  const rows = await page.locator('table.rooms tbody tr').count();
  assert.equal(rows, 50, 'a full first page of demo rooms');
  await page.screenshot({ path: join(DOCS, 'rooms-page.png') });
});

test('a busy demo room has one timeline bar per participant session (README screenshot)', async () => {
  // The completed room with the most participant sessions on the first page.
  const rooms = await page.locator('table.rooms tbody tr').evaluateAll((rows) =>
    rows
      .filter((r) => r.innerText.includes('completed'))
      .map((r) => ({ href: r.querySelector('td a').getAttribute('href'), sessions: parseInt(r.cells[5].innerText, 10) })),
  );
  rooms.sort((a, b) => b.sessions - a.sessions);
  assert.ok(rooms.length > 0 && rooms[0].sessions >= 3, 'the demo has completed rooms with several participants');
  await page.goto(new URL(rooms[0].href, BASE).toString());
  const bars = await page.locator('svg.timeline .session').count();
  const sessions = await page.locator('table.participants tbody tr').count();
  assert.equal(sessions, rooms[0].sessions, 'the participants table lists every session');
  assert.equal(bars, sessions, 'one bar per participant session');
  await page.locator('section:has(svg.timeline)').first().screenshot({ path: join(DOCS, 'room-timeline.png') });
});
