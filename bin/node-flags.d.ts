/** Node/V8 flags `tollgate start` runs with (see node-flags.js). */
export declare const HEAP_FLAGS: readonly string[];
