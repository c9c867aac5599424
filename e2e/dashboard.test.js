// The dashboard as a person uses it, in Debian's headless Chromium driven by playwright-core:
// sign in, filter, page, open a room, read its timeline, sign out. scripts/e2e starts the real
// binary, seeds it (seed.js) and runs this file; screenshots go to artifacts/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

import { seededRooms } from './seed.js';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (scripts/e2e sets it)`);
  return value;
};
const BASE = env('ROOMLOG_URL');
const ACCOUNT = env('ROOMLOG_ACCOUNT_SID');
const TOKEN = env('ROOMLOG_AUTH_TOKEN');
const ROOT = resolve(import.meta.dirname, '..');
const ARTIFACTS = join(ROOT, 'artifacts');
const DOCS = join(ROOT, 'docs');
const ROOMS = seededRooms();

let profile;
let context;
let page;
const offsite = [];

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
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
  // The dashboard must work offline: every request the page makes goes to roomlog itself.
  context.on('request', (request) => {
    if (!request.url().startsWith(BASE) && !request.url().startsWith('data:')) offsite.push(request.url());
  });
  page = context.pages()[0] ?? (await context.newPage());
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  assert.deepEqual(offsite, [], 'the dashboard fetched something from another host');
});

const shot = (name) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
const tableSids = () => page.locator('table.rooms tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.roomSid));
const query = () => [...new URL(page.url()).searchParams.entries()];

async function signIn(username, secret) {
  await page.fill('#username', username);
  await page.fill('#password', secret);
  return Promise.all([page.waitForNavigation(), page.click('form[action="/sign-in"] button[type=submit]')]);
}

test('an unsigned visitor is sent to the sign-in form, and a wrong token is refused', async () => {
  const response = await page.goto(`${BASE}/`);
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  assert.equal(response.status(), 200);
  const [refused] = await signIn(ACCOUNT, 'not-the-token');
  assert.equal(refused.status(), 401);
  assert.match(await page.locator('.notice.error').innerText(), /not accepted/);
  assert.equal(await page.inputValue('#username'), ACCOUNT, 'the SID stays filled in');
  await shot('sign-in-refused.png');
});

test('signing in with the account SID and auth token shows its rooms, newest first', async () => {
  await signIn(ACCOUNT, TOKEN);
  assert.equal(page.url(), `${BASE}/`);
  assert.equal(await page.locator('h1').innerText(), 'Rooms');
  assert.deepEqual(await tableSids(), ROOMS.map((r) => r.sid), 'the API order: create_time, then SID, descending');
  const cookies = await context.cookies(BASE);
  const session = cookies.find((c) => c.name === 'roomlog_session');
  assert.ok(session, 'a session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.ok(session.expires > Date.now() / 1000, 'the cookie expires');
  // Markup in a room name is shown as text.
  const qa = ROOMS.find((r) => r.name.includes('<'));
  assert.equal(await page.locator(`tr[data-room-sid="${qa.sid}"] td a`).innerText(), qa.name);
  await shot('rooms.png');
});

test('filtering by room type and codec narrows the list and is kept in a shareable URL', async () => {
  await page.check('input[name=RoomType][value=group]');
  await page.check('input[name=Codec][value=H264]');
  await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
  assert.deepEqual(query(), [['RoomType', 'group'], ['Codec', 'H264'], ['PageSize', '50']], 'empty fields are dropped');
  const expected = ROOMS.filter((r) => r.type === 'group' && r.video === 'H264').map((r) => r.sid);
  assert.ok(expected.length >= 2, 'the seed has several group rooms with H264');
  assert.deepEqual(await tableSids(), expected);
  for (const cell of await page.locator('table.rooms tbody td:nth-child(7)').allInnerTexts()) {
    assert.match(cell, /H264/);
  }
  await shot('rooms-filtered.png');
  // The same URL in a fresh tab shows the same view, with the boxes still ticked.
  const shared = await context.newPage();
  await shared.goto(page.url());
  assert.equal(await shared.isChecked('input[name=RoomType][value=group]'), true);
  assert.equal(await shared.locator('table.rooms tbody tr').count(), expected.length);
  await shared.close();
});

test('paging walks the list forward and back with the same keyset links as the API', async () => {
  await page.goto(`${BASE}/`);
  await page.selectOption('select[name=PageSize]', '10');
  await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
  const pages = [await tableSids()];
  assert.equal(await page.locator('a[rel=prev]').count(), 0, 'the first page has no previous page');
  while ((await page.locator('a[rel=next]').count()) > 0) {
    await Promise.all([page.waitForNavigation(), page.click('a[rel=next]')]);
    assert.match(new URL(page.url()).searchParams.get('PageToken'), /^PA/);
    pages.push(await tableSids());
    assert.ok(pages.length < 10, 'the next links end');
  }
  await shot('rooms-last-page.png');
  assert.deepEqual(pages.flat(), ROOMS.map((r) => r.sid), 'every room once, in order');
  assert.ok(pages.length >= 3, `${ROOMS.length} rooms make at least three pages of 10`);
  for (let index = pages.length - 2; index >= 0; index -= 1) {
    await Promise.all([page.waitForNavigation(), page.click('a[rel=prev]')]);
    assert.match(new URL(page.url()).searchParams.get('PageToken') ?? 'first', /^(PB|first)/);
    assert.deepEqual(await tableSids(), pages[index], `page ${index + 1} again`);
  }
  assert.equal(await page.locator('a[rel=prev]').count(), 0, 'back on the first page');
});

test('a room page has one timeline bar per participant session, re-joins on one row', async () => {
  const standup = ROOMS.find((r) => r.name === 'Daily standup' && r.recording);
  await page.goto(`${BASE}/`);
  await Promise.all([page.waitForNavigation(), page.click(`tr[data-room-sid="${standup.sid}"] a`)]);
  assert.equal(new URL(page.url()).pathname, `/rooms/${standup.sid}`);
  assert.equal(await page.locator('h1').innerText(), standup.name);
  const bars = page.locator('svg.timeline rect.session');
  assert.equal(await bars.count(), standup.sessions.length, 'one bar per session');
  const barSids = await bars.evaluateAll((rects) => rects.map((r) => r.dataset.participantSid).sort());
  assert.deepEqual(barSids, standup.sessions.map((s) => s.sid).sort());
  const identities = new Set(standup.sessions.map((s) => s.identity));
  assert.equal(await page.locator('svg.timeline g.row[data-identity]').count(), identities.size, 'one row per identity');
  assert.equal(await page.locator('svg.timeline g.row[data-identity="ben"] rect.session').count(), 2, 'ben re-joined');
  assert.equal(await page.locator('svg.timeline .recording-band').count(), 1, 'the recording is marked');
  assert.equal(await page.locator('table.participants tbody tr').count(), standup.sessions.length);
  assert.match(await page.locator('svg.concurrency').textContent(), /peak 5/);
  await page.locator('section:has(svg.timeline)').first().screenshot({ path: join(ARTIFACTS, 'standup-timeline.png') });
  await shot('room-standup.png');
});

test('participants still connected have open-ended, labelled bars', async () => {
  const incident = ROOMS.find((r) => r.open);
  await page.goto(`${BASE}/rooms/${incident.sid}`);
  const connected = incident.sessions.filter((s) => s.connected).map((s) => s.sid).sort();
  const open = page.locator('svg.timeline rect.session.connected');
  assert.deepEqual(await open.evaluateAll((rects) => rects.map((r) => r.dataset.participantSid).sort()), connected);
  assert.equal(await page.locator('svg.timeline text.note').count(), connected.length, 'each says "still connected"');
  await shot('room-in-progress.png');
});

test('the Events out page lists the forward target and the webhook endpoint with their backlog and last error', async () => {
  await page.goto(`${BASE}/`);
  await Promise.all([page.waitForNavigation(), page.click('header a[href="/events-out"]')]);
  assert.equal(new URL(page.url()).pathname, '/events-out');
  const row = (kind) => page.locator('table.delivery tbody tr', { has: page.locator(`td:first-child:text-is("${kind}")`) });
  const cells = async (kind) => (await row(kind).locator('td').allInnerTexts()).map((t) => t.trim());
  // Kind, endpoint id, URL, pending, failed, last error.
  assert.deepEqual((await cells('forward')).slice(0, 5), ['forward', '', 'http://127.0.0.1:1/twilio', '0', '0'],
    'JSON events are not Twilio callbacks: nothing to forward');
  // Every seeded room started and ended: its webhooks wait for an endpoint that refuses
  // connections. The first attempt's error shows once the worker has made it.
  const webhookId = env('ROOMLOG_E2E_WEBHOOK_ID');
  let webhook = [];
  for (let i = 0; i < 50; i += 1) {
    webhook = await cells('webhook');
    if (webhook[5]) break;
    await page.waitForTimeout(200);
    await page.reload();
  }
  assert.deepEqual(webhook.slice(0, 3), ['webhook', webhookId, 'http://127.0.0.1:1/hooks']);
  assert.ok(Number(webhook[3]) >= ROOMS.length, `a room.started at least per seeded room, pending: ${webhook[3]}`);
  assert.equal(webhook[4], '0', 'a refused connection is retried, never failed at once');
  assert.match(webhook[5], /cannot connect to http:\/\/127\.0\.0\.1:1\/hooks/);
  const text = await page.locator('main').innerText();
  assert.ok(!text.includes(env('ROOMLOG_E2E_WEBHOOK_SECRET')) && !text.includes('whsec_'), 'the secret is never shown');
  await shot('events-out.png');
});

test('signing out ends the session', async () => {
  await page.goto(`${BASE}/`);
  await Promise.all([page.waitForNavigation(), page.click('form[action="/sign-out"] button')]);
  assert.equal(new URL(page.url()).pathname, '/sign-in');
  await page.goto(`${BASE}/rooms/${ROOMS[0].sid}`);
  assert.equal(new URL(page.url()).pathname, '/sign-in', 'pages need a session again');
  await shot('signed-out.png');
});
