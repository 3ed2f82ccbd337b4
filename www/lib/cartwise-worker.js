// Runs the cartwise Engine off the main thread. Messages in: {id, type, ...}; out: {id, ok, result|error}.
//   {type: "load", bytes: ArrayBuffer, backend, publicKey?, wasmUrl?} -> engine info (backend "auto" |
//                                                 "webgpu" | "cpu"; publicKey: the export must be signed by it)
//   {type: "suggest", cart, options}            -> suggestions (on the backend load chose)
//   {type: "info"}                              -> engine info
//   {type: "products", offset, limit}           -> products by popularity
//   {type: "__panicForTests", message}          -> a deliberate panic (tests of recovery only)
// A panic traps the wasm instance for good: the answer then carries `trapped: true` and the
// panic's message, and the client replaces this worker (CartwiseClient in cartwise-bundles.js).
// The worker makes no request of its own: the page fetches the export and transfers its bytes.
import init, { Engine, __panicForTests } from "../../pkg/cartwise.js";

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
    case "__panicForTests":
      return __panicForTests(String(msg.message));
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
    // A trap (RuntimeError) leaves the instance unusable; the panic hook said why.
    const trapped = err instanceof WebAssembly.RuntimeError;
    const error = trapped
      ? (self.cartwisePanic ?? `cartwise engine trapped: ${err.message}`)
      : String(err?.message ?? err);
    self.postMessage({ id: msg.id, ok: false, error, trapped });
  }
};
