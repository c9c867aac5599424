// Events out (docs/behaviour.md §6): what roomlog sends, checked by the receivers' official libraries.
// Every receiver is a real HTTP server on 127.0.0.1 recording what the running `roomlog serve`
// delivers. Forwarded Twilio status callbacks (§6.1) are checked the way an application checks
// Twilio: twilio's `validateRequest(authToken, signature, url, params)`. Room webhooks (§6.2) are
// checked with the Standard Webhooks library: `new Webhook(secret).verify(body, headers)`. Each test
// makes its own account, so one test's outbox configuration never reaches another.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";

import { Webhook, WebhookVerificationError } from "standardwebhooks";
import twilio from "twilio";
import { RoomInstance } from "twilio/lib/rest/insights/v1/room.js";
import { ParticipantInstance } from "twilio/lib/rest/insights/v1/room/participant.js";

import { RoomlogServer, newSid } from "../lib/roomlog.mjs";

const { validateRequest, getExpectedTwilioSignature } = twilio;
const WAIT_MS = 15000; // the longest any delivery is waited for
const GRACE_MS = 1500; // how long "never arrives" is watched after a later message did arrive
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// -- a receiver --------------------------------------------------------------------------------

// Records every request; answers `status` (changeable while it runs) with an empty body.
class Receiver {
  constructor(status = 204) {
    this.status = status;
    this.received = [];
    this.server = createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        this.received.push({ method: req.method, path: req.url, headers: { ...req.headers }, body });
        res.writeHead(this.status, { "Content-Length": "0" });
        res.end();
      });
    });
  }

  async start() {
    await new Promise((res) => this.server.listen(0, "127.0.0.1", res));
    this.port = this.server.address().port;
    return this;
  }

  url(path) {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  requests(path) {
    return this.received.filter((r) => path === undefined || r.path.split("?")[0] === path);
  }

  async waitFor(predicate, what, timeoutMs = WAIT_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (predicate(this.received)) return this.received;
      if (Date.now() > deadline) {
        const got = this.received.map((r) => [r.method, r.path, r.body.slice(0, 120)]);
        throw new Error(`receiver :${this.port}: no ${what} within ${timeoutMs} ms; got ${JSON.stringify(got)}`);
      }
      await sleep(50);
    }
  }

  async close() {
    this.server.closeAllConnections();
    await new Promise((res) => this.server.close(res));
  }
}

// -- roomlog's side ----------------------------------------------------------------------------

function cli(server, ...args) {
  return execFileSync(server.bin, [...args, "--database-url", server.databaseUrl], {
    env: server.env(),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function fields(out) {
  const f = {};
  for (const line of out.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) f[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return f;
}

function newAccount(server) {
  const out = cli(server, "accounts", "create");
  const { sid, auth_token: token } = fields(out);
  assert.ok(sid?.startsWith("AC") && token, `cannot parse \`roomlog accounts create\`:\n${out}`);
  return { sid, token };
}

function forwardTo(server, account, ...urls) {
  cli(server, "accounts", "update", account.sid, ...urls.flatMap((u) => ["--forward-to", u]));
}

function accountRow(server, account) {
  return cli(server, "accounts", "list").split("\n").find((l) => l.startsWith(account.sid));
}

function addWebhook(server, account, url) {
  const out = cli(server, "webhooks", "add", "--account", account.sid, "--url", url);
  const { id, secret } = fields(out);
  assert.ok(id && secret, `cannot parse \`roomlog webhooks add\`:\n${out}`);
  return { id, secret };
}

// `roomlog outbox failed`: a header, then ID KIND ROOM ATTEMPTS TARGET LAST-ERROR rows.
function outboxFailed(server) {
  const lines = cli(server, "outbox", "failed").split("\n");
  assert.deepEqual(lines[0].split(/\s+/).slice(0, 5), ["ID", "KIND", "ROOM", "ATTEMPTS", "TARGET"]);
  return lines
    .slice(1)
    .filter((l) => l.trim())
    .map((line) => {
      const [id, kind, room, attempts, target, ...error] = line.trim().split(/\s+/);
      return { id, kind, room, attempts: Number(attempts), target, lastError: error.join(" ") };
    });
}

const iso = (ms) => new Date(ms).toISOString();

// A room's status callbacks in the parameters Twilio documents, timed just before now: created, two
// participants connect and disconnect, ended. Values that need form encoding on purpose, and one
// parameter roomlog does not know (forwards carry it all the same).
function roomCallbacks(account, roomSid = newSid("RM")) {
  const start = Math.floor(Date.now() / 1000) * 1000 - 90000;
  const base = {
    AccountSid: account.sid,
    RoomSid: roomSid,
    RoomName: "Design review & retro = café + 100%",
    RoomType: "group",
    RoomStatus: "in-progress",
  };
  const ana = { ParticipantSid: newSid("PA"), ParticipantIdentity: "ana+admin@example.com" };
  const bo = { ParticipantSid: newSid("PA"), ParticipantIdentity: "bo ø" };
  const steps = [
    [0, "room-created", { FutureParameter: "ünknown to roomlog; kept &=+" }],
    [5, "participant-connected", { ...ana, ParticipantStatus: "connected" }],
    [9, "participant-connected", { ...bo, ParticipantStatus: "connected" }],
    [40, "participant-disconnected", { ...bo, ParticipantStatus: "disconnected", ParticipantDuration: "31" }],
    [60, "participant-disconnected", { ...ana, ParticipantStatus: "disconnected", ParticipantDuration: "55" }],
    [61, "room-ended", { RoomStatus: "completed", RoomDuration: "61" }],
  ];
  return steps.map(([offset, event, extra], seq) => ({
    ...base,
    StatusCallbackEvent: event,
    Timestamp: iso(start + offset * 1000 + 250),
    SequenceNumber: String(seq),
    ...extra,
  }));
}

const callbackUrl = (server) => server.url + "/v1/Video/Callbacks";

// POSTs one callback as Twilio does; signed with the account's token unless told otherwise.
async function postCallback(server, account, params, { signature = "sign", token } = {}) {
  const url = callbackUrl(server);
  const headers = { "Content-Type": "application/x-www-form-urlencoded" };
  if (signature === "sign") signature = getExpectedTwilioSignature(account.token, url, params);
  if (signature !== null) headers["X-Twilio-Signature"] = signature;
  if (token !== undefined) headers["I-Twilio-Idempotency-Token"] = token;
  const r = await fetch(url, { method: "POST", headers, body: new URLSearchParams(params).toString() });
  return { status: r.status, text: await r.text() };
}

// Posts the callbacks in order; returns the idempotency token each carried.
async function sendRoom(server, account, callbacks) {
  const tokens = [];
  for (const params of callbacks) {
    const token = `${account.sid}-${randomUUID()}`;
    const r = await postCallback(server, account, params, { token });
    assert.equal(r.status, 204, `${params.StatusCallbackEvent}: ${r.status} ${r.text}`);
    tokens.push(token);
  }
  return tokens;
}

function insights(server, account) {
  const client = twilio(account.sid, account.token);
  client.insights.baseUrl = server.url;
  return client;
}

async function servedJson(server, account, path) {
  const r = await server.get(path, { user: account.sid, pass: account.token });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
}

const formOf = (received) => [...new URLSearchParams(received.body)];
const byToken = (got, token) => got.filter((r) => r.headers["i-twilio-idempotency-token"] === token);
const mediaType = (r) => (r.headers["content-type"] ?? "").split(";")[0].trim();

// One forwarded callback, as an application behind roomlog sees it.
function assertForward(received, target, sent, account, token) {
  assert.equal(received.method, "POST");
  assert.equal(mediaType(received), "application/x-www-form-urlencoded");
  const pairs = formOf(received);
  const params = Object.fromEntries(pairs);
  assert.equal(Object.keys(params).length, pairs.length, `a parameter repeated: ${received.body}`);
  assert.deepEqual(params, sent, "the same parameters with the same values, none added or dropped");
  const signature = received.headers["x-twilio-signature"];
  assert.ok(signature, "X-Twilio-Signature");
  assert.ok(validateRequest(account.token, signature, target, params), `validateRequest refuses the forward to ${target}`);
  assert.equal(received.headers["i-twilio-idempotency-token"], token);
  // The check is real: it refuses what was not signed.
  assert.ok(!validateRequest(account.token, signature, target, { ...params, RoomName: "changed" }));
  assert.ok(!validateRequest(randomBytes(16).toString("hex"), signature, target, params));
}

function verifyWebhook(received, secret) {
  assert.equal(received.method, "POST");
  assert.equal(mediaType(received), "application/json");
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    assert.ok(received.headers[name], `${name} header`);
  }
  const payload = new Webhook(secret).verify(received.body, received.headers);
  assert.deepEqual(payload, JSON.parse(received.body));
  return payload;
}

function webhooksOf(got, path, type, roomSid) {
  return got.filter((r) => {
    if (r.path.split("?")[0] !== path) return false;
    const body = JSON.parse(r.body);
    return body.type === type && body.data?.room?.room_sid === roomSid;
  });
}

const anotherSecret = () => "whsec_" + randomBytes(32).toString("base64");

// -- the tests ---------------------------------------------------------------------------------

describe("roomlog's outbox, received with twilio-node and standardwebhooks", () => {
  let server;
  const receivers = [];
  const receiver = async (status) => {
    const r = await new Receiver(status).start();
    receivers.push(r);
    return r;
  };

  before(async () => {
    // A settle window of 0: a room is `complete` as soon as its room-ended is in (room.completed).
    server = new RoomlogServer({ extraEnv: { ROOMLOG_SETTLE_WINDOW: "0" } });
    await server.start();
  });

  after(async () => {
    for (const r of receivers) await r.close();
    await server?.cleanup();
  });

  test("every accepted callback is forwarded to each target, re-signed for it", async () => {
    const account = newAccount(server);
    const one = await receiver();
    const two = await receiver();
    // One target with a query string of its own: Twilio's validator signs the full URL.
    const targets = [one.url("/twilio/status?app=roomlog&v=1"), two.url("/status")];
    forwardTo(server, account, ...targets);
    const row = accountRow(server, account);
    assert.ok(row.includes(targets[0]) && row.includes(targets[1]), row);

    const callbacks = roomCallbacks(account);
    const tokens = await sendRoom(server, account, callbacks);
    for (const [rcv, target] of [
      [one, targets[0]],
      [two, targets[1]],
    ]) {
      const got = await rcv.waitFor((got) => tokens.every((t) => byToken(got, t).length), `${tokens.length} forwards`);
      assert.deepEqual(new Set(got.map((r) => r.headers["i-twilio-idempotency-token"])), new Set(tokens));
      const { pathname, search } = new URL(target);
      for (const r of got) assert.equal(r.path, pathname + search);
      callbacks.forEach((params, i) => {
        for (const r of byToken(got, tokens[i])) assertForward(r, target, params, account, tokens[i]);
      });
    }
    // Re-signed: the signature is for the target, not for roomlog's own callback URL.
    const signature = byToken(two.requests(), tokens[0])[0].headers["x-twilio-signature"];
    assert.ok(!validateRequest(account.token, signature, callbackUrl(server), callbacks[0]));
    assert.ok(!validateRequest(account.token, signature, targets[0], callbacks[0]));
  });

  test("a GET callback is forwarded as a POST of its query; without a token none is invented", async () => {
    const account = newAccount(server);
    const rcv = await receiver();
    const target = rcv.url("/get-callbacks");
    forwardTo(server, account, target);
    const params = roomCallbacks(account)[0];
    const url = callbackUrl(server) + "?" + new URLSearchParams(params).toString();
    const signature = getExpectedTwilioSignature(account.token, url, {});
    assert.ok(validateRequest(account.token, signature, url, {}));
    const r = await fetch(url, { headers: { "X-Twilio-Signature": signature } });
    assert.equal(r.status, 204, await r.text());

    const got = await rcv.waitFor((got) => got.length > 0, "forward");
    for (const received of got) {
      assertForward(received, target, params, account, undefined);
      assert.ok(!("i-twilio-idempotency-token" in received.headers));
    }
  });

  test("a refused callback is never forwarded", async () => {
    const account = newAccount(server);
    const rcv = await receiver();
    forwardTo(server, account, rcv.url("/status"));
    const forged = roomCallbacks(account)[0];
    const good = getExpectedTwilioSignature(account.token, callbackUrl(server), forged);
    const refusals = {
      "no signature": await postCallback(server, account, forged, { signature: null, token: "forged-1" }),
      "wrong signature": await postCallback(server, account, forged, {
        signature: "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
        token: "forged-2",
      }),
      "signed with another token": await postCallback(server, account, forged, {
        signature: getExpectedTwilioSignature(randomBytes(16).toString("hex"), callbackUrl(server), forged),
        token: "forged-3",
      }),
      "tampered parameter": await postCallback(
        server,
        account,
        { ...forged, RoomName: "tampered" },
        { signature: good, token: "forged-4" },
      ),
    };
    for (const [kase, r] of Object.entries(refusals)) assert.equal(r.status, 403, `${kase}: ${r.status} ${r.text}`);

    // A valid callback queued after the forged ones: once it is in, nothing else may follow.
    const marker = roomCallbacks(account)[0];
    const [token] = await sendRoom(server, account, [marker]);
    await rcv.waitFor((got) => byToken(got, token).length, "the valid callback's forward");
    await sleep(GRACE_MS);
    const got = rcv.requests();
    assert.deepEqual(new Set(got.map((r) => r.headers["i-twilio-idempotency-token"])), new Set([token]));
    for (const r of got) assert.equal(Object.fromEntries(formOf(r)).RoomSid, marker.RoomSid);
  });

  test("forward targets change on the running server", async () => {
    const account = newAccount(server);
    const old = await receiver();
    const fresh = await receiver();
    forwardTo(server, account, old.url("/a"));
    const callbacks = roomCallbacks(account);
    const [first] = await sendRoom(server, account, callbacks.slice(0, 1));
    await old.waitFor((got) => byToken(got, first).length, "forward before the change");

    forwardTo(server, account, fresh.url("/b")); // the list replaces the account's
    const [second] = await sendRoom(server, account, callbacks.slice(1, 2));
    await fresh.waitFor((got) => byToken(got, second).length, "forward after the change");
    await sleep(GRACE_MS);
    assert.equal(byToken(old.requests(), second).length, 0, "the replaced target gets nothing new");
    assert.equal(byToken(fresh.requests(), first).length, 0, "nor does the new one get what came before it");

    forwardTo(server, account, ""); // clears
    assert.ok(!accountRow(server, account).includes("http"), accountRow(server, account));
    assert.equal((await postCallback(server, account, callbacks[2], { token: "after-clear" })).status, 204);
    await sleep(GRACE_MS);
    assert.equal(byToken([...old.requests(), ...fresh.requests()], "after-clear").length, 0);
  });

  test("one account's callbacks and webhooks never reach another account's receivers", async () => {
    const a = newAccount(server);
    const b = newAccount(server);
    const ra = await receiver();
    const rb = await receiver();
    forwardTo(server, a, ra.url("/forward"));
    forwardTo(server, b, rb.url("/forward"));
    const hookA = addWebhook(server, a, ra.url("/hook"));
    const hookB = addWebhook(server, b, rb.url("/hook"));
    const rooms = new Map();
    for (const account of [a, b]) {
      const callbacks = roomCallbacks(account);
      rooms.set(account.sid, { room: callbacks[0].RoomSid, tokens: await sendRoom(server, account, callbacks.slice(0, 2)) });
    }
    for (const [rcv, mine, theirs, secret, otherSecret] of [
      [ra, a, b, hookA.secret, hookB.secret],
      [rb, b, a, hookB.secret, hookA.secret],
    ]) {
      const { room, tokens } = rooms.get(mine.sid);
      await rcv.waitFor(
        (got) => tokens.every((t) => byToken(got, t).length) && webhooksOf(got, "/hook", "room.started", room).length,
        "its account's forwards and room.started",
      );
      await sleep(GRACE_MS);
      for (const r of rcv.requests("/forward")) {
        const params = Object.fromEntries(formOf(r));
        assert.equal(params.AccountSid, mine.sid);
        assert.ok(validateRequest(mine.token, r.headers["x-twilio-signature"], rcv.url("/forward"), params));
        assert.ok(!validateRequest(theirs.token, r.headers["x-twilio-signature"], rcv.url("/forward"), params));
      }
      for (const r of rcv.requests("/hook")) {
        const payload = verifyWebhook(r, secret);
        assert.equal(payload.data.room.account_sid, mine.sid);
        assert.equal(payload.data.room.room_sid, room);
        assert.throws(() => new Webhook(otherSecret).verify(r.body, r.headers), WebhookVerificationError);
      }
      assert.equal(rcv.requests().length, rcv.requests("/forward").length + rcv.requests("/hook").length);
    }
  });

  test("room.started and room.completed are Standard Webhooks carrying the room as served", async () => {
    const account = newAccount(server);
    const rcv = await receiver();
    const hookUrl = rcv.url("/roomlog/events");
    const { id: endpointId, secret } = addWebhook(server, account, hookUrl);
    assert.ok(secret.startsWith("whsec_"));
    assert.equal(Buffer.from(secret.slice(6), "base64").length, 32);
    const listed = cli(server, "webhooks", "list");
    assert.ok(listed.includes(endpointId) && listed.includes(hookUrl) && !listed.includes(secret), listed);

    const callbacks = roomCallbacks(account);
    const roomSid = callbacks[0].RoomSid;
    await sendRoom(server, account, callbacks.slice(0, 1));
    const got = await rcv.waitFor((got) => webhooksOf(got, "/roomlog/events", "room.started", roomSid).length, "room.started");
    const [started] = webhooksOf(got, "/roomlog/events", "room.started", roomSid);
    let payload = verifyWebhook(started, secret);
    assert.deepEqual(Object.keys(payload).sort(), ["data", "timestamp", "type"]);
    assert.equal(payload.type, "room.started");
    assert.ok(Date.parse(payload.timestamp) <= Date.now(), payload.timestamp);
    assert.deepEqual(Object.keys(payload.data), ["room"], "room.started carries the room only");
    assert.deepEqual(payload.data.room, await servedJson(server, account, `/v1/Video/Rooms/${roomSid}`));

    // Tampering with anything signed fails the official verifier.
    const { headers, body } = started;
    const tampered = body.replaceAll(roomSid, newSid("RM"));
    assert.notEqual(tampered, body);
    const ts = Number(headers["webhook-timestamp"]);
    for (const [kase, data, hdrs, key] of [
      ["body", tampered, headers, secret],
      ["one byte more", body + " ", headers, secret],
      ["webhook-id", body, { ...headers, "webhook-id": "msg_" + randomBytes(12).toString("hex") }, secret],
      ["webhook-timestamp", body, { ...headers, "webhook-timestamp": String(ts - 1) }, secret],
      ["stale", body, { ...headers, "webhook-timestamp": String(Math.floor(Date.now() / 1000) - 600) }, secret],
      ["another secret", body, headers, anotherSecret()],
    ]) {
      assert.throws(() => new Webhook(key).verify(data, hdrs), WebhookVerificationError, kase);
    }

    await sendRoom(server, account, callbacks.slice(1));
    await rcv.waitFor((got) => webhooksOf(got, "/roomlog/events", "room.completed", roomSid).length, "room.completed");
    const completed = webhooksOf(rcv.requests(), "/roomlog/events", "room.completed", roomSid);
    const ids = new Set(completed.map((r) => r.headers["webhook-id"]));
    assert.equal(ids.size, 1, "one room.completed message (repeats keep their id)");
    payload = verifyWebhook(completed[0], secret);
    assert.equal(payload.type, "room.completed");
    assert.deepEqual(Object.keys(payload.data).sort(), ["participants", "room"]);
    const { room, participants } = payload.data;
    assert.deepEqual([room.processing_state, room.room_status], ["complete", "completed"]);
    assert.deepEqual(room, await servedJson(server, account, `/v1/Video/Rooms/${roomSid}`));
    const list = await servedJson(server, account, `/v1/Video/Rooms/${roomSid}/Participants?PageSize=100`);
    assert.deepEqual(participants, list.participants);
    assert.deepEqual(
      participants.map((p) => p.participant_identity),
      ["ana+admin@example.com", "bo ø"],
    );

    // twilio-node reads the webhook's room and participants as it reads its own fetches.
    const client = insights(server, account);
    const v1 = client.insights.v1;
    assert.deepEqual(new RoomInstance(v1, room, roomSid).toJSON(), (await v1.rooms(roomSid).fetch()).toJSON());
    const fetched = await v1.rooms(roomSid).participants.list();
    assert.deepEqual(
      participants.map((p) => new ParticipantInstance(v1, p, roomSid).toJSON()),
      fetched.map((p) => p.toJSON()),
    );

    // room.started went once, as one message.
    const startedIds = new Set(
      webhooksOf(rcv.requests(), "/roomlog/events", "room.started", roomSid).map((r) => r.headers["webhook-id"]),
    );
    assert.deepEqual(startedIds, new Set([started.headers["webhook-id"]]));
    assert.ok(!ids.has(started.headers["webhook-id"]));
  });

  test("a removed endpoint gets nothing more", async () => {
    const account = newAccount(server);
    const rcv = await receiver();
    const { id } = addWebhook(server, account, rcv.url("/hook"));
    forwardTo(server, account, rcv.url("/forward")); // the marker that the callbacks are in
    assert.ok(cli(server, "webhooks", "remove", id).includes(id));
    assert.ok(!cli(server, "webhooks", "list").includes(id));

    const tokens = await sendRoom(server, account, roomCallbacks(account));
    await rcv.waitFor((got) => tokens.every((t) => byToken(got, t).length), "the forwards");
    await sleep(GRACE_MS);
    assert.deepEqual(rcv.requests("/hook"), []);
  });

  test("a 410 fails at once and outbox retry delivers it again with the same webhook-id", async () => {
    const account = newAccount(server);
    const rcv = await receiver(410);
    const forwardTarget = rcv.url("/forward");
    const hookTarget = rcv.url("/hook");
    forwardTo(server, account, forwardTarget);
    const { secret } = addWebhook(server, account, hookTarget);
    const callbacks = roomCallbacks(account);
    const roomSid = callbacks[0].RoomSid;
    const [token] = await sendRoom(server, account, callbacks.slice(0, 1));
    await rcv.waitFor(
      (got) => byToken(got, token).length && webhooksOf(got, "/hook", "room.started", roomSid).length,
      "both first attempts",
    );

    let failed;
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      failed = outboxFailed(server).filter((row) => row.room === roomSid);
      if (failed.length === 2 || Date.now() > deadline) break;
      await sleep(200);
    }
    assert.deepEqual(
      failed.map((row) => [row.kind, row.target, row.attempts]).sort(),
      [
        ["forward", forwardTarget, 1],
        ["room.started", hookTarget, 1],
      ],
      JSON.stringify(failed),
    );
    for (const row of failed) assert.match(row.lastError, /410/);
    await sleep(GRACE_MS);
    assert.equal(rcv.requests("/forward").length, 1, "a 410 is not retried");
    assert.equal(rcv.requests("/hook").length, 1, "a 410 is not retried");

    const first = rcv.requests("/hook")[0];
    const webhookRow = failed.find((row) => row.kind === "room.started");
    const forwardRow = failed.find((row) => row.kind === "forward");
    assert.equal(first.headers["webhook-id"], webhookRow.id, "outbox failed names the message by its webhook-id");
    verifyWebhook(first, secret);

    rcv.status = 204; // the receiver is fixed
    assert.match(cli(server, "outbox", "retry", webhookRow.id).trim(), /^1 /);
    await rcv.waitFor((got) => webhooksOf(got, "/hook", "room.started", roomSid).length >= 2, "the retried webhook");
    const again = rcv.requests("/hook").at(-1);
    assert.equal(again.headers["webhook-id"], first.headers["webhook-id"], "the same message id");
    assert.equal(again.body, first.body, "the body is fixed when the message is queued");
    verifyWebhook(again, secret);
    assert.deepEqual(
      outboxFailed(server)
        .filter((row) => row.room === roomSid)
        .map((row) => row.id),
      [forwardRow.id],
    );

    cli(server, "outbox", "retry"); // every failed message
    await rcv.waitFor((got) => byToken(got, token).length >= 2, "the retried forward");
    assertForward(byToken(rcv.requests(), token).at(-1), forwardTarget, callbacks[0], account, token);
    assert.deepEqual(
      outboxFailed(server).filter((row) => row.room === roomSid),
      [],
    );
  });
});
