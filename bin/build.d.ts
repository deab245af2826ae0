/** See bin/build.js: the entry module `tollgate start` runs, emitted from src/ when stale, or null to run from src/. */
export function ensureBuild(root: string): string | null;
