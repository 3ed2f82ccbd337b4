/** The engine's Web Worker script: start it with `new Worker(url, {type: "module"})` (the
 * element does), or point `<cartwise-bundles worker-url>` at a bundled copy. No exports. */
export {};
