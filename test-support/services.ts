// Tests that need a service (Redis, PostgreSQL) or a tool (docker-compose, kubectl) ask here first.
// In CI (CI=true) a missing one is a failure: CI must run them. Elsewhere (a laptop with only Node)
// the tests are skipped, and the skip says so on stderr with how to get the service. Nothing skips
// silently.
import { execFileSync } from "node:child_process";
import { connect } from "node:net";

function unavailable(what: string, howTo: string): false {
  const message = `${what} is not available; ${howTo}`;
  if (process.env.CI) throw new Error(`${message} (CI must provide it)`);
  process.stderr.write(`\n[toolshed] SKIPPING the tests that need ${what}: ${howTo}\n`);
  return false;
}

/** True when something accepts TCP connections at host:port within `timeoutMs`. */
export function tcpOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export async function needRedis(
  url = process.env.TOOLSHED_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return (
    (await tcpOpen(hostname, Number(port || 6379))) ||
    unavailable(
      `Redis at ${hostname}:${port || 6379}`,
      `start it with 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'`,
    )
  );
}

export async function needPostgres(host = "127.0.0.1", port = 5432): Promise<boolean> {
  return (
    (await tcpOpen(host, port)) ||
    unavailable(
      `PostgreSQL at ${host}:${port}`,
      "start it with 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'",
    )
  );
}

/** True when `command` runs (e.g. `kubectl version --client`). */
export function needCommand(command: string, args: string[], howTo: string): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore", timeout: 15_000 });
    return true;
  } catch {
    return unavailable(`'${command}'`, howTo);
  }
}

/** True when `problem` is undefined; otherwise fails in CI or skips loudly, naming the problem. */
export function needWithout(what: string, problem: string | undefined): boolean {
  return problem === undefined ? true : unavailable(what, problem);
}
