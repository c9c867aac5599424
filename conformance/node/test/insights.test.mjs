// The official `twilio` npm package, unmodified, against a real roomlog server.
// The only change to the client is where its Insights domain points:
// `client.insights.baseUrl = server.url` (twilio/lib/base/Domain.js keeps `baseUrl` as a plain
// property and joins it with the relative URI in absoluteUrl() on every request).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import twilio from "twilio";

import { RoomlogServer, newSid, seed } from "../lib/roomlog.mjs";

const { RestException } = twilio;
const t = (s) => new Date(s);

function clientFor(server, { user, pass, accountSid } = {}) {
  const client = accountSid
    ? twilio(user ?? server.accountSid, pass ?? server.authToken, { accountSid })
    : twilio(user ?? server.accountSid, pass ?? server.authToken);
  client.insights.baseUrl = server.url;
  return client;
}

const sidsOf = (records) => records.map((r) => r.roomSid);

async function assertRestError(promise, status, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof RestException, `expected RestException, got ${e}`);
    assert.equal(e.status, status);
    assert.equal(e.code, code);
    assert.equal(e.moreInfo, `https://www.twilio.com/docs/errors/${code}`);
    return true;
  });
}

const FILTER_CASES = [
  ["no filter", {}, ["LIVE", "R6", "R5", "R4", "R3", "R2", "R1", "R7"]],
  ["roomType go", { roomType: ["go"] }, ["R2"]],
  ["roomType group|go", { roomType: ["group", "go"] }, ["LIVE", "R6", "R5", "R2", "R1", "R7"]],
  ["roomType peer_to_peer|group_small", { roomType: ["peer_to_peer", "group_small"] }, ["R4", "R3"]],
  ["roomType group_small", { roomType: ["group_small"] }, ["R4"]],
  ["codec VP8", { codec: ["VP8"] }, ["R6", "R1"]],
  ["codec H264", { codec: ["H264"] }, ["LIVE", "R2"]],
  ["codec VP9", { codec: ["VP9"] }, ["R3"]],
  ["codec opus", { codec: ["opus"] }, ["R5", "R1"]],
  ["codec any of VP8|H264", { codec: ["VP8", "H264"] }, ["LIVE", "R6", "R2", "R1"]],
  ["roomName standup", { roomName: "standup" }, ["R2", "R1", "R7"]],
  ["roomName is case-sensitive", { roomName: "Standup" }, []],
  ["roomName unknown", { roomName: "no-such-room" }, []],
  ["createdAfter inclusive", { createdAfter: t("2025-03-03T10:00:00Z") }, ["LIVE", "R6", "R5", "R4", "R3"]],
  ["createdBefore exclusive", { createdBefore: t("2025-03-03T10:00:00Z") }, ["R2", "R1", "R7"]],
  [
    "created range",
    { createdAfter: t("2025-03-01T10:00:00Z"), createdBefore: t("2025-03-02T10:00:00Z") },
    ["R1", "R7"],
  ],
  ["createdBefore the first room", { createdBefore: t("2025-03-01T10:00:00Z") }, []],
  ["roomType+codec+roomName", { roomType: ["group"], codec: ["opus", "VP9"], roomName: "allhands" }, ["R5"]],
  [
    "roomType+dates",
    {
      roomType: ["group", "group_small"],
      createdAfter: t("2025-03-04T00:00:00Z"),
      createdBefore: t("2025-03-06T00:00:00Z"),
    },
    ["R6", "R5", "R4"],
  ],
];

describe("twilio-node against roomlog (seeded)", () => {
  let server;
  let data;
  let client;

  before(async () => {
    server = new RoomlogServer();
    await server.start();
    data = await seed(server);
    client = clientFor(server);
  });

  after(async () => {
    if (server) await server.cleanup();
  });

  describe("rooms.list filters", () => {
    for (const [name, params, expected] of FILTER_CASES) {
      test(name, async () => {
        assert.deepEqual(sidsOf(await client.insights.v1.rooms.list(params)), data.sids(...expected));
      });
      test(`${name} (pageSize 2)`, async () => {
        const got = await client.insights.v1.rooms.list({ ...params, pageSize: 2 });
        assert.deepEqual(sidsOf(got), data.sids(...expected));
      });
    }
  });

  describe("paging", () => {
    for (const pageSize of [1, 2, 3, 7, 8, 9, 50]) {
      test(`every room once, in order, pageSize ${pageSize}`, async () => {
        const got = sidsOf(await client.insights.v1.rooms.list({ pageSize }));
        assert.deepEqual(got, data.sids(...data.order));
        assert.equal(new Set(got).size, got.length);
      });
    }

    for (const [limit, pageSize] of [[5, 2], [3, undefined], [1, undefined], [8, 3], [100, 2], [2000, undefined]]) {
      test(`limit ${limit} pageSize ${pageSize}`, async () => {
        const got = await client.insights.v1.rooms.list({ limit, pageSize });
        assert.deepEqual(sidsOf(got), data.sids(...data.order).slice(0, limit));
      });
    }

    test("each() visits every room once", async () => {
      const seen = [];
      await new Promise((resolve, reject) => {
        client.insights.v1.rooms.each({ pageSize: 3, done: (err) => (err ? reject(err) : resolve()) }, (room) => {
          seen.push(room.roomSid);
        });
      });
      assert.deepEqual(seen, data.sids(...data.order));
    });

    test("page objects walk forward and back", async () => {
      let page = await client.insights.v1.rooms.page({ pageSize: 2 });
      assert.equal(page.previousPageUrl, undefined);
      const pages = [page.instances.map((r) => r.roomSid)];
      while (page.nextPageUrl) {
        assert.ok(page.nextPageUrl.startsWith(server.url + "/v1/Video/Rooms?"), page.nextPageUrl);
        page = await page.nextPage();
        pages.push(page.instances.map((r) => r.roomSid));
      }
      assert.deepEqual(pages.map((p) => p.length), [2, 2, 2, 2]);
      assert.deepEqual(pages.flat(), data.sids(...data.order));
      assert.equal(page.nextPage(), undefined);
      const back = [pages.at(-1)];
      while (page.previousPageUrl) {
        assert.ok(page.previousPageUrl.startsWith(server.url + "/v1/Video/Rooms?"), page.previousPageUrl);
        page = await page.previousPage();
        back.push(page.instances.map((r) => r.roomSid));
      }
      assert.deepEqual(back.reverse(), pages);
    });

    test("filters and dates travel in next_page_url", async () => {
      const page = await client.insights.v1.rooms.page({
        roomType: ["group"],
        createdAfter: t("2025-03-01T00:00:00Z"),
        pageSize: 1,
      });
      const next = new URL(page.nextPageUrl);
      assert.deepEqual(next.searchParams.getAll("RoomType"), ["group"]);
      assert.equal(next.searchParams.get("CreatedAfter"), "2025-03-01T00:00:00Z");
      assert.equal(next.searchParams.get("PageSize"), "1");
      assert.equal(next.searchParams.get("Page"), "1");
      assert.match(next.searchParams.get("PageToken"), /^PA/);
    });
  });

  describe("rooms(sid).fetch()", () => {
    test("typed fields of a completed room", async () => {
      const r1 = data.rooms.R1;
      const room = await client.insights.v1.rooms(r1).fetch();
      assert.equal(room.roomSid, r1);
      assert.equal(room.accountSid, server.accountSid);
      assert.equal(room.roomName, "standup");
      assert.equal(room.roomType, "group");
      assert.equal(room.roomStatus, "completed");
      assert.ok(room.createTime instanceof Date, `createTime is ${room.createTime}`);
      assert.equal(room.createTime.toISOString(), "2025-03-01T10:00:00.000Z");
      assert.ok(room.endTime instanceof Date, `endTime is ${room.endTime}`);
      assert.equal(room.endTime.toISOString(), "2025-03-01T10:10:00.000Z");
      assert.equal(room.durationSec, 600);
      assert.equal(room.uniqueParticipants, 2);
      assert.equal(room.uniqueParticipantIdentities, 2);
      assert.equal(room.concurrentParticipants, 2);
      assert.equal(room.totalParticipantDurationSec, 360 + 510);
      assert.equal(room.totalRecordingDurationSec, 30);
      assert.deepEqual(room.codecs, ["VP8", "opus"]);
      assert.equal(room.recordingEnabled, true);
      assert.equal(room.endReason, "room_ended_via_api");
      assert.equal(room.mediaRegion, "us1");
      assert.equal(room.createdMethod, "sdk");
      assert.equal(room.maxParticipants, 50);
      assert.equal(room.processingState, "complete");
      assert.equal(room.edgeLocation, null);
      assert.equal(room.statusCallback, null);
      assert.equal(room.url, `${server.url}/v1/Video/Rooms/${r1}`);
      assert.deepEqual(room.links, { participants: `${server.url}/v1/Video/Rooms/${r1}/Participants` });
    });

    test("derived duration, input spellings, truncation", async () => {
      const r2 = await client.insights.v1.rooms(data.rooms.R2).fetch();
      assert.equal(r2.roomType, "go");
      assert.equal(r2.mediaRegion, "us2");
      assert.equal(r2.createdMethod, "ad_hoc");
      assert.deepEqual(r2.codecs, ["H264"]);
      assert.equal(r2.durationSec, 310);
      assert.equal(r2.totalParticipantDurationSec, 300);
      assert.equal(r2.endReason, null);

      const r4 = await client.insights.v1.rooms(data.rooms.R4).fetch();
      assert.equal(r4.roomType, "group_small");
      assert.equal(r4.durationSec, 1800);
      assert.equal(r4.uniqueParticipants, 0);
      assert.ok(r4.codecs === null || (Array.isArray(r4.codecs) && r4.codecs.length === 0), `${r4.codecs}`);

      const r5 = await client.insights.v1.rooms(data.rooms.R5).fetch();
      assert.deepEqual(r5.codecs, ["opus"]);

      const r7 = await client.insights.v1.rooms(data.rooms.R7).fetch();
      assert.equal(r7.createTime.toISOString(), "2025-03-01T10:00:00.000Z");
      assert.equal(r7.durationSec, 60);
    });

    test("a room in progress", async () => {
      const live = await client.insights.v1.rooms(data.rooms.LIVE).fetch();
      assert.equal(live.roomStatus, "in_progress");
      assert.equal(live.createTime.getTime(), data.liveCreateTime.getTime());
      assert.equal(live.endTime, null);
      assert.equal(live.durationSec, null);
      assert.equal(live.processingState, "in_progress");
      assert.equal(live.concurrentParticipants, 1);
      assert.deepEqual(live.codecs, ["H264"]);
      assert.equal(live.mediaRegion, "de1");
    });

    test("a room closed by the room timeout", async () => {
      const r3 = await client.insights.v1.rooms(data.rooms.R3).fetch();
      assert.equal(r3.roomType, "peer_to_peer");
      assert.deepEqual(r3.codecs, ["VP9"]);
      assert.equal(r3.processingState, "timeout");
      assert.equal(r3.endTime?.toISOString?.(), "2025-03-03T10:00:20.000Z");
    });

    test("participants of a fetched room", async () => {
      const room = await client.insights.v1.rooms(data.rooms.R2).fetch();
      const parts = await room.participants().list();
      assert.deepEqual(parts.map((p) => p.participantIdentity), ["erin"]);
    });
  });

  describe("participants", () => {
    test("list: join_time ascending, typed fields", async () => {
      const r1 = data.rooms.R1;
      const parts = await client.insights.v1.rooms(r1).participants.list();
      assert.deepEqual(
        parts.map((p) => p.participantSid),
        [data.participants.R1_alice, data.participants.R1_bob],
      );
      const [alice, bob] = parts;
      assert.equal(alice.participantIdentity, "alice");
      assert.equal(alice.roomSid, r1);
      assert.equal(alice.accountSid, server.accountSid);
      assert.ok(alice.joinTime instanceof Date);
      assert.equal(alice.joinTime.toISOString(), "2025-03-01T10:01:00.000Z");
      assert.equal(alice.leaveTime.toISOString(), "2025-03-01T10:09:30.000Z");
      assert.equal(alice.durationSec, 510);
      assert.equal(alice.status, "completed");
      assert.deepEqual(alice.codecs, ["VP8"]);
      assert.equal(alice.url, `${server.url}/v1/Video/Rooms/${r1}/Participants/${alice.participantSid}`);
      assert.equal(bob.durationSec, 360);
      assert.deepEqual(bob.codecs, ["opus"]);
    });

    test("list: paged, limited, empty", async () => {
      const r1 = data.rooms.R1;
      let got = await client.insights.v1.rooms(r1).participants.list({ pageSize: 1 });
      assert.deepEqual(got.map((p) => p.participantIdentity), ["alice", "bob"]);
      got = await client.insights.v1.rooms(r1).participants.list({ limit: 1 });
      assert.deepEqual(got.map((p) => p.participantIdentity), ["alice"]);
      assert.deepEqual(await client.insights.v1.rooms(data.rooms.R4).participants.list(), []);
      const page = await client.insights.v1.rooms(r1).participants.page({ pageSize: 1 });
      assert.ok(page.nextPageUrl.startsWith(`${server.url}/v1/Video/Rooms/${r1}/Participants?`), page.nextPageUrl);
    });

    test("fetch", async () => {
      const r1 = data.rooms.R1;
      const pa = data.participants.R1_bob;
      const bob = await client.insights.v1.rooms(r1).participants(pa).fetch();
      assert.equal(bob.participantSid, pa);
      assert.equal(bob.participantIdentity, "bob");
      assert.equal(bob.roomSid, r1);
      assert.ok(bob.joinTime instanceof Date);
      assert.equal(bob.joinTime.toISOString(), "2025-03-01T10:02:00.000Z");
      assert.equal(bob.leaveTime.toISOString(), "2025-03-01T10:08:00.000Z");
      assert.equal(bob.durationSec, 360);
      assert.equal(bob.status, "completed");
      assert.deepEqual(bob.codecs, ["opus"]);
      assert.equal(bob.url, `${server.url}/v1/Video/Rooms/${r1}/Participants/${pa}`);
    });

    test("fetch: still connected", async () => {
      const dave = await client.insights.v1.rooms(data.rooms.LIVE).participants(data.participants.LIVE_dave).fetch();
      assert.equal(dave.status, "in_progress");
      assert.equal(dave.leaveTime, null);
      assert.equal(dave.durationSec, null);
      assert.equal(dave.joinTime.getTime(), data.liveCreateTime.getTime() + 60000);
      assert.deepEqual(dave.codecs, ["H264"]);
    });
  });

  describe("errors", () => {
    test("wrong token: RestException 401 / 20003 (list and fetch)", async () => {
      const bad = clientFor(server, { pass: "0".repeat(32) });
      await assertRestError(bad.insights.v1.rooms.list(), 401, 20003);
      await assertRestError(bad.insights.v1.rooms(data.rooms.R1).fetch(), 401, 20003);
      await assertRestError(bad.insights.v1.rooms(data.rooms.R1).participants.list(), 401, 20003);
    });

    test("unknown account: 401 / 20003", async () => {
      const bad = clientFor(server, { user: newSid("AC") });
      await assertRestError(bad.insights.v1.rooms.list(), 401, 20003);
    });

    test("unknown room: 404 / 20404", async () => {
      const missing = "RM" + "0".repeat(32);
      await assertRestError(client.insights.v1.rooms(missing).fetch(), 404, 20404);
      await assertRestError(client.insights.v1.rooms(missing).participants.list(), 404, 20404);
    });

    test("unknown participant, or one of another room: 404 / 20404", async () => {
      await assertRestError(
        client.insights.v1.rooms(data.rooms.R1).participants("PA" + "0".repeat(32)).fetch(),
        404,
        20404,
      );
      await assertRestError(
        client.insights.v1.rooms(data.rooms.R2).participants(data.participants.R1_alice).fetch(),
        404,
        20404,
      );
    });
  });

  describe("API key", () => {
    test("SK client lists and fetches; a wrong secret is 401", async () => {
      const key = server.createApiKey();
      assert.match(key.sid, /^SK[0-9a-fA-F]{32}$/);
      const kc = clientFor(server, { user: key.sid, pass: key.secret, accountSid: server.accountSid });
      assert.equal(kc.accountSid, server.accountSid);
      assert.deepEqual(sidsOf(await kc.insights.v1.rooms.list({ pageSize: 3 })), data.sids(...data.order));
      const room = await kc.insights.v1.rooms(data.rooms.R1).fetch();
      assert.equal(room.accountSid, server.accountSid);
      assert.equal((await kc.insights.v1.rooms(data.rooms.R1).participants.list()).length, 2);

      const wrong = key.secret.slice(0, -1) + (key.secret.endsWith("0") ? "1" : "0");
      const bad = clientFor(server, { user: key.sid, pass: wrong, accountSid: server.accountSid });
      await assertRestError(bad.insights.v1.rooms.list(), 401, 20003);
      await assertRestError(bad.insights.v1.rooms(data.rooms.R1).fetch(), 401, 20003);
    });
  });
});

describe("twilio-node against roomlog (own servers)", () => {
  const servers = [];
  const start = async (opts) => {
    const s = new RoomlogServer(opts);
    servers.push(s);
    return s.start();
  };
  after(async () => {
    for (const s of servers) await s.cleanup();
  });

  test("keyset paging: rooms inserted while paging are never skipped or repeated", async () => {
    const server = await start();
    const original = [];
    const events = [];
    for (let i = 0; i < 6; i++) {
      const sid = "RM" + (0xa0 + i).toString(16) + "0".repeat(30);
      original.push(sid);
      events.push({
        event: "room-created",
        timestamp: `2025-05-0${i + 1}T12:00:00.000Z`,
        room_sid: sid,
        room_name: "paging",
        room_type: "group",
      });
    }
    await server.postEvents(events);
    original.reverse();
    const client = clientFor(server);
    let page = await client.insights.v1.rooms.page({ pageSize: 2 });
    const seen = page.instances.map((r) => r.roomSid);
    assert.deepEqual(seen, original.slice(0, 2));
    await server.postEvents([
      { event: "room-created", timestamp: "2025-06-01T12:00:00.000Z", room_sid: "RMf1" + "0".repeat(30), room_name: "paging", room_type: "group" },
      { event: "room-created", timestamp: "2025-05-02T18:00:00.000Z", room_sid: "RMf2" + "0".repeat(30), room_name: "paging", room_type: "group" },
    ]);
    while (page.nextPageUrl) {
      page = await page.nextPage();
      seen.push(...page.instances.map((r) => r.roomSid));
    }
    assert.equal(new Set(seen).size, seen.length, `a room was repeated: ${seen}`);
    assert.deepEqual(seen.filter((s) => original.includes(s)), original, `a room was skipped: ${seen}`);
  });

  test("default 24 h window", async () => {
    const server = await start({ extraEnv: { ROOMLOG_DEFAULT_WINDOW: null } });
    const now = Math.floor(Date.now() / 1000) * 1000;
    const [recent, old, ancient] = ["a", "b", "c"].map((c) => "RM" + c.repeat(32));
    const created = (sid, ms) => ({
      event: "room-created",
      timestamp: new Date(ms).toISOString(),
      room_sid: sid,
      room_name: "window",
      room_type: "group",
    });
    await server.postEvents([
      created(recent, now - 3600e3),
      created(old, now - 48 * 3600e3),
      created(ancient, Date.parse("2025-01-01T00:00:00Z")),
    ]);
    const c = clientFor(server);
    assert.deepEqual(sidsOf(await c.insights.v1.rooms.list()), [recent]);
    assert.deepEqual(sidsOf(await c.insights.v1.rooms.list({ pageSize: 1 })), [recent]);
    assert.deepEqual(sidsOf(await c.insights.v1.rooms.list({ createdAfter: new Date(now - 72 * 3600e3) })), [recent, old]);
    assert.deepEqual(sidsOf(await c.insights.v1.rooms.list({ createdBefore: new Date(now + 300e3) })), [
      recent,
      old,
      ancient,
    ]);
    assert.equal((await c.insights.v1.rooms(ancient).fetch()).roomSid, ancient);
  });
});
