import type { Transport } from "@modelcontextprotocol/server";
import { closingMeta, listenedUris, MAX_URIS } from "./http/listen-follow.js";
import { principalFromAuthInfo } from "./principal.js";
import { RpcError } from "./rpc-error.js";
import type { Runtime } from "./runtime.js";

/**
 * The stdio twin of http/listen-follow.ts, for a forwarding server that follows resources (the
 * gateway): a 2026-07-28 subscriptions/listen naming resource URIs starts following each for the
 * caller before the SDK's stdio entry serves it (a URI the caller may not see refuses the whole
 * listen with a JSON-RPC error), and stops when the listen ends: its cancellation, its closing
 * result or error, or the connection's end. The entry routes the updates onto the listen, by URI.
 * Wraps the wire after the entry has taken it; returns what ends every follow.
 */
export function followResourcesOnPipe(rt: Runtime, wire: Transport): () => void {
  const subscriptions = rt.def.forward?.resources?.subscriptions;
  if (!subscriptions || !rt.notifications.resourceUpdated) return () => {};
  /** What ends the follows of each listen, by its request id. */
  const following = new Map<string | number, (() => void)[]>();
  let closed = false;
  const end = (id: unknown) => {
    const ends = following.get(id as string | number);
    following.delete(id as string | number);
    for (const stop of ends ?? []) stop();
  };
  const send = wire.send.bind(wire);
  wire.send = (message, options) => {
    // An error (a refused listen), or the closing result of a listen the entry tears down.
    if (!("method" in message) && "id" in message && message.id !== undefined) end(message.id);
    return send(message, options);
  };
  const onmessage = wire.onmessage;
  wire.onmessage = (message, extra) => {
    if ("method" in message && message.method === "notifications/cancelled" && !("id" in message)) {
      end((message.params as { requestId?: unknown } | undefined)?.requestId);
    }
    const listen = listenedUris(message);
    const deps = rt.openedDeps;
    // Unlike HTTP's per-request servers, the connection's server declared `resources.subscribe` once,
    // and the entry honors URIs as it declared: so every URI goes through `subscribe`, which refuses
    // what it cannot follow now (an upstream removed since), rather than asking `offered` again.
    if (!listen || deps === undefined) {
      onmessage?.(message, extra);
      return;
    }
    const refuse = (e: RpcError) =>
      // Through the wire's send as it is now, so the other wrappers see the listen refused.
      void wire
        .send({
          jsonrpc: "2.0",
          id: listen.id,
          error: { code: e.code, message: e.message, ...(e.data === undefined ? {} : { data: e.data }) },
        })
        .catch(() => {});
    if (listen.uris.length > MAX_URIS) {
      refuse(new RpcError(-32602, `a listen request may name at most ${MAX_URIS} resources`));
      return;
    }
    const principal = extra?.authInfo ? principalFromAuthInfo(extra.authInfo) : undefined;
    // Access to one of its URIs taken by a reload: the listen is closed, as the entry closes one
    // (its result), and the entry's router forgets it (a cancellation only the entry sees).
    const revoked = () => {
      if (!following.has(listen.id)) return;
      void wire
        .send({
          jsonrpc: "2.0",
          id: listen.id,
          result: { resultType: "complete", _meta: closingMeta(rt, listen.id) },
        })
        .catch(() => {});
      onmessage?.({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: listen.id } });
    };
    void (async () => {
      const ends: (() => void)[] = [];
      for (const uri of listen.uris) {
        try {
          ends.push(await subscriptions.subscribe(deps, uri, principal, revoked));
        } catch (err) {
          for (const stop of ends) stop();
          const e = RpcError.from(err);
          const data = typeof e.data === "object" && e.data !== null ? e.data : {};
          refuse(new RpcError(e.code, e.message, { ...data, uri }));
          return;
        }
      }
      if (closed) {
        for (const stop of ends) stop();
        return;
      }
      following.set(listen.id, ends);
      onmessage?.(message, extra);
    })();
  };
  return () => {
    closed = true;
    for (const id of [...following.keys()]) end(id);
  };
}
