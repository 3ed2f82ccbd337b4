// Runs the cartwise Engine off the main thread. Messages in: {id, type, ...}; out: {id, ok, result|error}.
//   {type: "load", bytes: ArrayBuffer, backend, publicKey?, wasmUrl?} -> engine info (backend "auto" |
//                                                 "webgpu" | "cpu"; publicKey: the export must be signed by it)
//   {type: "suggest", cart, options}            -> suggestions (on the backend load chose)
//   {type: "info"}                              -> engine info
//   {type: "products", offset, limit}           -> products by popularity
// The worker makes no request of its own: the page fetches the export and transfers its bytes.
import init, { Engine } from "../../pkg/cartwise.js";

let ready = null;
let engine = null;

async function handle(msg) {
  switch (msg.type) {
    case "load":
      engine?.free();
      engine = null;
      engine = await Engine.load(new Uint8Array(msg.bytes), {
        backend: msg.backend ?? "auto",
        ...(msg.publicKey ? { publicKey: msg.publicKey } : {}),
      });
      return engine.info();
    case "suggest":
      return await requireEngine().suggestAsync(msg.cart, msg.options);
    case "info":
      return requireEngine().info();
    case "products":
      return requireEngine().products(msg.offset ?? 0, msg.limit ?? 24);
    default:
      throw new Error(`cartwise worker: unknown message type ${JSON.stringify(msg.type)}`);
  }
}

function requireEngine() {
  if (!engine) throw new Error("cartwise worker: no export loaded yet");
  return engine;
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    // The first message is always "load", which says where the wasm is when it was moved.
    ready ??= init(msg.wasmUrl ? { module_or_path: msg.wasmUrl } : undefined);
    await ready;
    self.postMessage({ id: msg.id, ok: true, result: await handle(msg) });
  } catch (err) {
    self.postMessage({ id: msg.id, ok: false, error: String(err?.message ?? err) });
  }
};
