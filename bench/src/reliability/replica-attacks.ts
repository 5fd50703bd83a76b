import { hashApiKey } from "@toolshed/auth";
import type { Attack } from "./types.js";
import { startRedis, startServer } from "./processes.js";
import { callMessage, openSession, rawPost } from "./raw-http.js";

/**
 * With --redis-url a 2025 session is rebuilt on any replica from its shared record. These attacks
 * run two replicas of the target sharing a throwaway Redis (the kit's code is the same on every
 * server, so the fixture carries them).
 */
export const REPLICA_ATTACKS: readonly Attack[] = [
  {
    name: "session takeover across replicas: Bob presents Alice's session id to a replica that never held it, hoping it is rebuilt for him",
    async run(ctx) {
      const redis = await startRedis();
      const env = {
        TOOLSHED_REDIS_URL: redis.url,
        TOOLSHED_API_KEYS: `alice:${hashApiKey(ctx.alice)}:*;bob:${hashApiKey(ctx.bob)}:*`,
      };
      const started = await Promise.allSettled([
        startServer(ctx.target, { env }),
        startServer(ctx.target, { env }),
      ]);
      try {
        const [a, b] = started.map((s) => (s.status === "fulfilled" ? s.value : undefined));
        if (!a || !b) return { refused: false, detail: "could not start two replicas sharing Redis" };
        const alice = await openSession(`${a.base}/mcp`, { "x-api-key": ctx.alice });
        const stolen = { ...alice.headers, "x-api-key": ctx.bob };
        const echo = callMessage(1, "echo", { message: "mine now" });
        const onB = await rawPost(`${b.base}/mcp`, echo, stolen);
        const onA = await rawPost(`${a.base}/mcp`, echo, stolen);
        // Refused only if Bob got 404 on both, B built nothing for him, and Alice still has her session
        // on B (so the 404 is the owner check, not a replica that cannot rebuild sessions at all).
        const rebuiltForBob = b.logLines().some((l) => l.includes("took up a session"));
        const own = await rawPost(
          `${b.base}/mcp`,
          callMessage(2, "echo", { message: "mine" }),
          alice.headers,
        );
        const refused =
          onB.status === 404 &&
          onA.status === 404 &&
          !rebuiltForBob &&
          own.status === 200 &&
          /"mine"/.test(own.body);
        return {
          refused,
          detail:
            `Bob on the other replica: HTTP ${onB.status}, on the home replica: HTTP ${onA.status}; ` +
            `rebuilt before Alice came: ${rebuiltForBob}; Alice on the other replica: HTTP ${own.status}`,
        };
      } finally {
        await Promise.allSettled(
          started.map((s) => (s.status === "fulfilled" ? s.value.stop() : Promise.resolve())),
        );
        await redis.stop();
      }
    },
  },
];
