// Realistic rooms for the dashboard's browser tests, sent through the real event path
// (POST /v1/Video/Events, README "Sending events"). Deterministic: fixed instants and SIDs, so
// the screenshots in docs/ only change when the dashboard does. The tests import `seededRooms`
// to know what the pages must show.
//
// Run as a script: ROOMLOG_URL, ROOMLOG_ACCOUNT_SID, ROOMLOG_AUTH_TOKEN must be set.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const sid = (prefix, key) => prefix + createHash('md5').update(key).digest('hex');
const at = (text) => new Date(text).getTime();
const iso = (ms) => new Date(ms).toISOString();
const MIN = 60_000;

// A small deterministic generator (mulberry32) for the rooms not written out by hand.
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A room: `people` are sessions `[identity, joinOffsetMin, leaveOffsetMin | null]` (null: still
 * connected); the same identity twice is a re-join. `video` is the video codec or null.
 */
function room({ key, name, type, start, minutes, video, people, recording = false, open = false }) {
  const roomSid = sid('RM', key);
  const t0 = at(start);
  const base = { room_sid: roomSid, room_name: name, room_type: type };
  const events = [
    {
      ...base, event: 'room-created', timestamp: iso(t0), media_region: 'us1', created_method: 'sdk',
      max_participants: type === 'go' ? 2 : 50, recording_enabled: recording,
    },
  ];
  const sessions = people.map(([identity, join, leave], index) => {
    const participant = sid('PA', `${key}/${index}`);
    const who = { ...base, participant_sid: participant, participant_identity: identity };
    const joined = t0 + join * MIN;
    events.push({ ...who, event: 'participant-connected', timestamp: iso(joined) });
    const audio = sid('MT', `${key}/${index}/audio`);
    events.push({ ...who, event: 'track-added', timestamp: iso(joined + 2000), track_sid: audio, track_kind: 'audio', track_name: 'mic', codec: 'opus' });
    if (video) {
      const track = sid('MT', `${key}/${index}/video`);
      events.push({ ...who, event: 'track-added', timestamp: iso(joined + 3000), track_sid: track, track_kind: 'video', track_name: 'camera', codec: video });
    }
    if (leave !== null) {
      events.push({ ...who, event: 'participant-disconnected', timestamp: iso(t0 + leave * MIN), participant_duration: Math.floor((leave - join) * 60) });
    }
    return { sid: participant, identity, connected: leave === null };
  });
  if (recording) {
    const recordingSid = sid('RT', key);
    const source = sid('MT', `${key}/0/${video ? 'video' : 'audio'}`);
    const codec = video ?? 'OPUS';
    const first = people[0];
    const begin = t0 + first[1] * MIN + 5000;
    const record = { ...base, recording_sid: recordingSid, source_sid: source, codec, container: video ? 'mkv' : 'mka' };
    events.push({ ...record, event: 'recording-started', timestamp: iso(begin) });
    if (first[2] !== null) {
      const end = t0 + first[2] * MIN;
      events.push({ ...record, event: 'recording-completed', timestamp: iso(end), duration: Math.floor((end - begin) / 1000) });
    }
  }
  if (!open) {
    events.push({ ...base, event: 'room-ended', timestamp: iso(t0 + minutes * MIN), room_duration: minutes * 60 });
  }
  return { sid: roomSid, name, type, video, createTime: t0, sessions, open, recording, events };
}

const TEAM = ['ana', 'ben', 'chloe', 'dev', 'emma', 'farid', 'grace', 'hiro'];

/** Every seeded room, newest first (the dashboard's order: create_time, then SID, descending). */
export function seededRooms() {
  const rooms = [
    // The room of docs/room-timeline.png: a late joiner, an early leaver, a dropped connection
    // (ben re-joins on the same row), and a recording.
    room({
      key: 'standup-27', name: 'Daily standup', type: 'group', start: '2025-10-27T09:30:00Z', minutes: 17.2,
      video: 'VP8', recording: true,
      people: [['ana', 0.1, 16.7], ['emma', 0.35, 11], ['ben', 0.7, 8], ['chloe', 1.5, 15], ['dev', 4, 17.1], ['ben', 9.2, 17]],
    }),
    // Still going: two of its participants have not left.
    room({
      key: 'incident', name: 'Incident bridge', type: 'group', start: '2025-10-27T16:05:00Z', minutes: 0, video: 'H264',
      open: true, people: [['oncall-sre', 0, null], ['farid', 2, 20], ['grace', 6, null], ['hiro', 9, 31]],
    }),
    // User data with markup in it: it must show as text.
    room({
      key: 'qa', name: 'Q&A <Friday> "all hands"', type: 'group', start: '2025-10-24T15:00:00Z', minutes: 50,
      video: 'VP9', recording: true,
      people: TEAM.map((who, i) => [who, i * 0.5, 45 + (i % 3)]),
    }),
  ];
  const next = random(20251027);
  const kinds = [
    ['Design review', 'group', 'H264', 4, 45],
    ['1:1 check-in', 'peer_to_peer', 'VP8', 2, 30],
    ['Sales demo – Acme Corp', 'group_small', 'VP8', 3, 40],
    ['Support call #4821', 'go', 'VP8', 2, 12],
    ['Customer interview', 'group', 'H264', 3, 35],
    ['Sprint planning', 'group', 'VP8', 6, 55],
    ['Office hours', 'group_small', null, 3, 25],
  ];
  for (let day = 20; day <= 27; day += 1) {
    if (day === 25 || day === 26) continue; // a weekend
    if (day !== 27) {
      rooms.push(room({
        key: `standup-${day}`, name: 'Daily standup', type: 'group', start: `2025-10-${day}T09:30:00Z`, minutes: 15,
        video: 'VP8', people: TEAM.slice(0, 5).map((who, i) => [who, i * 0.4, 14 - i * 0.3]),
      }));
    }
    for (let slot = 0; slot < 3; slot += 1) {
      const [name, type, video, size, minutes] = kinds[Math.floor(next() * kinds.length)];
      const hour = 10 + slot * 2 + Math.floor(next() * 2);
      const start = `2025-10-${day}T${String(hour).padStart(2, '0')}:${String(Math.floor(next() * 4) * 15).padStart(2, '0')}:00Z`;
      const people = Array.from({ length: size }, (_, i) => {
        const join = Math.round(next() * 4 * 10) / 10;
        return [TEAM[(i + day) % TEAM.length], join, minutes - Math.round(next() * 5 * 10) / 10];
      });
      if (next() < 0.3) people.push([people[0][0], minutes - 4, minutes - 0.5]); // a re-join
      people[0][2] = Math.min(people[0][2], people.length > size ? minutes - 5 : people[0][2]);
      rooms.push(room({ key: `${day}-${slot}`, name, type, start, minutes, video, people, recording: next() < 0.25 }));
    }
  }
  return rooms.sort((a, b) => b.createTime - a.createTime || (a.sid < b.sid ? 1 : -1));
}

async function seed() {
  const { ROOMLOG_URL: url, ROOMLOG_ACCOUNT_SID: account, ROOMLOG_AUTH_TOKEN: token } = process.env;
  if (!url || !account || !token) throw new Error('ROOMLOG_URL, ROOMLOG_ACCOUNT_SID and ROOMLOG_AUTH_TOKEN must be set');
  const authorization = 'Basic ' + Buffer.from(`${account}:${token}`).toString('base64');
  const rooms = seededRooms();
  for (const seeded of rooms) {
    const response = await fetch(`${url}/v1/Video/Events`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ events: seeded.events }),
    });
    if (response.status !== 202) throw new Error(`seeding ${seeded.name}: ${response.status} ${await response.text()}`);
  }
  const events = rooms.reduce((n, r) => n + r.events.length, 0);
  console.log(`seeded ${rooms.length} rooms (${events} events) into ${url}`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await seed();
}
