// LiveKit webhooks (POST /v1/Video/LiveKit/Webhook) signed with the official livekit-server-sdk.
// Each body of conformance/livekit/session.json is JSON.stringify'd, parsed strictly by the SDK's
// WebhookEvent (no ignoreUnknownFields: only real protobuf fields), signed with AccessToken (sha256
// claim), accepted by the SDK's WebhookReceiver, posted to roomlog, and the rooms are read back with
// twilio-node, unmodified, and compared to conformance/livekit/expected.json.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { AccessToken, WebhookEvent, WebhookReceiver } from "livekit-server-sdk";
import twilio from "twilio";

import { REPO_ROOT, RoomlogServer } from "../lib/roomlog.mjs";

const { RestException } = twilio;
const LIVEKIT_DIR = join(REPO_ROOT, "conformance", "livekit");
const SESSION = JSON.parse(readFileSync(join(LIVEKIT_DIR, "session.json"), "utf8"));
const EXPECTED = JSON.parse(readFileSync(join(LIVEKIT_DIR, "expected.json"), "utf8"));

const WEBHOOK = "/v1/Video/LiveKit/Webhook";
const KEY = "APIn0deConform1";
const SECRET = "Zp4Lr8Tq2Wx6Vm9Kc3Hb7Nf5Jd1Gs0Ya8Ue4Io2Qw7";

const sha256b64 = (body) => createHash("sha256").update(body, "utf8").digest("base64");

// LiveKit's server signs each webhook with a token valid for 5 minutes.
async function sign(body, { key = KEY, secret = SECRET, ttl = "5m" } = {}) {
  const at = new AccessToken(key, secret, { ttl });
  at.sha256 = sha256b64(body);
  return at.toJwt();
}

async function post(server, body, token, contentType = "application/webhook+json") {
  const headers = { "Content-Type": contentType };
  if (token !== undefined) headers.Authorization = token;
  return fetch(server.url + WEBHOOK, { method: "POST", headers, body });
}

async function deliver(server, event) {
  const body = JSON.stringify(event);
  const token = await sign(body);
  const got = await new WebhookReceiver(KEY, SECRET).receive(body, token);
  assert.equal(got.id, event.id);
  assert.equal(got.event, event.event);
  const r = await post(server, body, token);
  const text = await r.text();
  assert.equal(r.status, 200, `${event.event} ${event.id}: ${r.status} ${text}\n${server.logTail()}`);
  return JSON.parse(text);
}

const NEW = { accepted: 1, duplicates: 0 };
// An event that belongs to no room (a web egress has no roomId) is acknowledged (200, so LiveKit
// does not retry it) and named as ignored.
const IGNORED = { accepted: 0, duplicates: 0, ignored: 1 };
const belongsToNoRoom = (e) => e.event.startsWith("egress_") && !e.egressInfo.roomId;

function clientFor(server) {
  const client = twilio(server.accountSid, server.authToken);
  client.insights.baseUrl = server.url;
  return client;
}

const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

function plain(v) {
  if (v instanceof Date) {
    assert.equal(v.getUTCMilliseconds(), 0);
    return v.toISOString().replace(".000Z", "Z");
  }
  return v;
}

// The expected fields, read from a twilio-node record through their camelCase names.
function view(record, fields) {
  return Object.fromEntries(fields.map((f) => [f, plain(record[camel(f)])]));
}

function livekitServer(extra = {}) {
  return new RoomlogServer({
    extraEnv: {
      ROOMLOG_LIVEKIT_API_KEY: KEY,
      ROOMLOG_LIVEKIT_API_SECRET: SECRET,
      ...EXPECTED.server_env, // settle window 0, a room timeout that keeps the open room open
      ...extra,
    },
  });
}

describe("the fixture is what LiveKit's SDK reads", () => {
  for (const [i, event] of SESSION.entries()) {
    test(`${String(i).padStart(2, "0")} ${event.event}`, async () => {
      // Strict: an unknown field throws. Re-serialised, it is the same JSON (canonical protobuf JSON).
      const msg = WebhookEvent.fromJson(event);
      assert.deepEqual(msg.toJson(), event);
      const body = JSON.stringify(event);
      const token = await sign(body);
      const got = await new WebhookReceiver(KEY, SECRET).receive(body, token);
      assert.ok(got.equals(msg));
    });
  }
});

describe("livekit-server-sdk → roomlog → twilio-node", () => {
  let server;
  const answers = [];

  before(async () => {
    server = livekitServer();
    await server.start();
    for (const event of SESSION) answers.push(await deliver(server, event));
  });

  after(async () => {
    if (server) await server.cleanup();
  });

  test("every event accepted once (the web egress: ignored)", () => {
    for (const [i, event] of SESSION.entries()) {
      const allowed = belongsToNoRoom(event) ? [NEW, IGNORED] : [NEW];
      assert.ok(
        allowed.some((a) => JSON.stringify(a) === JSON.stringify(answers[i])),
        `${event.event} ${event.id}: ${JSON.stringify(answers[i])}`,
      );
    }
  });

  test("a repeat is a duplicate", async () => {
    assert.deepEqual(await deliver(server, SESSION[5]), { accepted: 0, duplicates: 1 });
  });

  test("rooms.list: newest first, no room for the web egress", async () => {
    const rooms = await clientFor(server).insights.v1.rooms.list();
    assert.deepEqual(
      rooms.map((r) => r.roomSid),
      EXPECTED.rooms.map((r) => r.room_sid),
    );
  });

  for (const want of EXPECTED.rooms) {
    test(`room ${want.room_name} and its participants`, async () => {
      const client = clientFor(server);
      const fields = Object.keys(want).filter((k) => k !== "participants");
      const room = await client.insights.v1.rooms(want.room_sid).fetch();
      assert.equal(room.accountSid, server.accountSid);
      assert.deepEqual(view(room, fields), Object.fromEntries(fields.map((f) => [f, want[f]])));
      const parts = await client.insights.v1.rooms(want.room_sid).participants.list();
      const pfields = Object.keys(want.participants[0]);
      assert.deepEqual(
        parts.map((p) => view(p, pfields)),
        want.participants,
      );
    });
  }

  test("the recorder and the aborted connection are not participants", async () => {
    const client = clientFor(server);
    const roomA = EXPECTED.rooms[1].room_sid;
    for (const pa of EXPECTED.absent_participants) {
      await assert.rejects(client.insights.v1.rooms(roomA).participants(pa).fetch(), (e) => {
        assert.ok(e instanceof RestException);
        assert.equal(e.status, 404);
        assert.equal(e.code, 20404);
        return true;
      });
    }
  });
});

describe("refusals: 401 code 20003, nothing stored", () => {
  let server;
  before(async () => {
    server = livekitServer();
    await server.start();
  });
  after(async () => {
    if (server) await server.cleanup();
  });

  const event = SESSION[0];
  const body = JSON.stringify(event);
  const cases = [
    ["no Authorization header", async () => [body, undefined]],
    ["wrong secret", async () => [body, await sign(body, { secret: "x" + SECRET.slice(1) })]],
    [
      "unregistered key",
      async () => [body, await sign(body, { key: "APIunknownKey02", secret: "another-secret-00000000000000000000000000000" })],
    ],
    [
      "body changed after signing",
      async () => [JSON.stringify({ ...event, room: { ...event.room, maxParticipants: 2000 } }), await sign(body)],
    ],
    ["expired 2 minutes ago", async () => [body, await sign(body, { ttl: -120 })]],
  ];
  for (const [name, make] of cases) {
    test(name, async () => {
      const [sent, token] = await make();
      await assert.rejects(new WebhookReceiver(KEY, SECRET).receive(sent, token));
      const r = await post(server, sent, token);
      assert.equal(r.status, 401);
      const err = await r.json();
      assert.equal(err.code, 20003);
      assert.equal(err.status, 401);
      assert.ok("message" in err && "more_info" in err, JSON.stringify(err));
      assert.deepEqual(await clientFor(server).insights.v1.rooms.list(), []);
    });
  }
});
