// Node/V8 flags `tollgate start` runs with (bin/tollgate.js adds them; the bench passes them to
// the gateways it starts over an IPC channel, which a re-exec would close). Why 8 MB semi-spaces:
// see bin/tollgate.js and docs/performance.md.
export const HEAP_FLAGS = ['--max-semi-space-size=8'];
