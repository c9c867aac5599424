// Start the real roomlog binary on a free port with a fresh temp database, and seed it over HTTP.
// The binary is $ROOMLOG_BIN (default: <repo>/target/debug/roomlog); a missing binary is an error.

import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(HERE, "..", "..", "..");
export const DATASET = JSON.parse(readFileSync(join(REPO_ROOT, "conformance", "seed", "dataset.json"), "utf8"));

// twilio-node rewrites the host when a region or edge is configured.
delete process.env.TWILIO_REGION;
delete process.env.TWILIO_EDGE;

const SERVER_SETTINGS = [
  "ROOMLOG_LISTEN",
  "ROOMLOG_DATABASE_URL",
  "ROOMLOG_PUBLIC_URL",
  "ROOMLOG_TRUST_PROXY",
  "ROOMLOG_DEFAULT_WINDOW",
  "ROOMLOG_SETTLE_WINDOW",
  "ROOMLOG_ROOM_TIMEOUT",
  "ROOMLOG_RETENTION",
  "ROOMLOG_ACCOUNT_SID",
  "ROOMLOG_AUTH_TOKEN",
];

export function newSid(prefix) {
  return prefix + randomBytes(16).toString("hex");
}

export function roomlogBin() {
  let bin = process.env.ROOMLOG_BIN || join(REPO_ROOT, "target", "debug", "roomlog");
  if (!isAbsolute(bin)) bin = resolve(REPO_ROOT, bin);
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`roomlog binary not found or not executable at ${bin}; build it or set ROOMLOG_BIN`);
  }
  return bin;
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class RoomlogServer {
  constructor({ extraEnv = {} } = {}) {
    this.bin = roomlogBin();
    this.extraEnv = extraEnv;
    this.accountSid = newSid("AC");
    this.authToken = randomBytes(16).toString("hex");
    this.tmp = mkdtempSync(join(tmpdir(), "roomlog-conformance-node-"));
    this.databaseUrl = `sqlite://${join(this.tmp, "roomlog.db")}`;
    this.logPath = join(this.tmp, "server.log");
    this.proc = null;
    this.url = "";
  }

  env() {
    // Server settings come from this harness only, never from the caller's environment.
    const env = { ...process.env };
    for (const k of SERVER_SETTINGS) delete env[k];
    Object.assign(env, {
      ROOMLOG_ACCOUNT_SID: this.accountSid,
      ROOMLOG_AUTH_TOKEN: this.authToken,
      ROOMLOG_DEFAULT_WINDOW: "0",
    });
    for (const [k, v] of Object.entries(this.extraEnv)) {
      if (v === null || v === undefined) delete env[k];
      else env[k] = v;
    }
    return env;
  }

  async start(timeoutMs = 30000) {
    let lastErr = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      this.url = `http://127.0.0.1:${port}`;
      const fd = openSync(this.logPath, "a");
      const proc = spawn(
        this.bin,
        ["serve", "--listen", `127.0.0.1:${port}`, "--database-url", this.databaseUrl],
        { env: this.env(), stdio: ["ignore", fd, fd] },
      );
      closeSync(fd);
      this.proc = proc;
      let exited = false;
      proc.on("exit", (code) => {
        exited = true;
        lastErr = `roomlog exited with status ${code}`;
      });
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !exited) {
        try {
          const r = await fetch(this.url + "/readyz", { signal: AbortSignal.timeout(2000) });
          if (r.status === 200) return this;
          lastErr = `/readyz answered ${r.status}`;
        } catch (e) {
          lastErr = String(e);
        }
        await sleep(100);
      }
      if (!exited) {
        await this.stop();
        throw new Error(`roomlog not ready on ${this.url} within ${timeoutMs} ms (${lastErr})\n${this.logTail()}`);
      }
    }
    throw new Error(`roomlog failed to start: ${lastErr}\n${this.logTail()}`);
  }

  async stop() {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const done = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10000);
    await done;
    clearTimeout(timer);
  }

  async cleanup() {
    await this.stop();
    if (process.env.ROOMLOG_KEEP_TMP) console.log(`keeping ${this.tmp}`);
    else rmSync(this.tmp, { recursive: true, force: true });
  }

  logTail(n = 40) {
    try {
      const lines = readFileSync(this.logPath, "utf8").split("\n");
      return "--- roomlog log (tail) ---\n" + lines.slice(-n).join("\n");
    } catch {
      return "(no server log)";
    }
  }

  authHeader(user = this.accountSid, pass = this.authToken) {
    return "Basic " + Buffer.from(`${user}:${pass}`).toString("base64");
  }

  async get(path, { user, pass } = {}) {
    return fetch(this.url + path, { headers: { Authorization: this.authHeader(user, pass) } });
  }

  async postEvents(events) {
    const r = await fetch(this.url + "/v1/Video/Events", {
      method: "POST",
      headers: { Authorization: this.authHeader(), "Content-Type": "application/json" },
      body: JSON.stringify({ events }),
    });
    const text = await r.text();
    if (r.status !== 202) {
      throw new Error(`POST /v1/Video/Events: expected 202, got ${r.status}: ${text}\n${this.logTail()}`);
    }
    const body = JSON.parse(text);
    if ((body.accepted ?? 0) + (body.duplicates ?? 0) !== events.length) {
      throw new Error(`POST /v1/Video/Events: unexpected answer ${text} for ${events.length} events`);
    }
    return body;
  }

  // `roomlog keys create` prints `sid: SK…` and `secret: …` lines.
  createApiKey() {
    const out = execFileSync(
      this.bin,
      ["keys", "create", "--account", this.accountSid, "--database-url", this.databaseUrl],
      { env: this.env(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
    let sid, secret;
    for (const raw of out.split("\n")) {
      const line = raw.trim();
      if (line.startsWith("sid:")) sid = line.slice(4).trim();
      else if (line.startsWith("secret:")) secret = line.slice(7).trim();
    }
    if (!sid || !secret || !sid.startsWith("SK")) {
      throw new Error(`cannot parse \`roomlog keys create\` output:\n${out}`);
    }
    return { sid, secret };
  }
}

function isoMs(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, ".000Z");
}

// Seeds conformance/seed/dataset.json plus the live room; returns labels -> SIDs and the live room's
// create time (a Date, whole seconds).
export async function seed(server) {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  let liveCreated = null;
  const live = DATASET.live_events.map(({ offset_sec, ...e }) => {
    const ts = new Date(now.getTime() + offset_sec * 1000);
    if (e.event === "room-created") liveCreated = ts;
    return { ...e, timestamp: isoMs(ts) };
  });
  await server.postEvents(DATASET.events);
  await server.postEvents(live);
  return {
    rooms: DATASET.rooms,
    participants: DATASET.participants,
    order: DATASET.order,
    liveCreateTime: liveCreated,
    sids: (...labels) => labels.map((l) => DATASET.rooms[l]),
  };
}
