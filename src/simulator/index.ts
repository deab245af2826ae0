/**
 * @module
 * An OpenAI- and Azure-OpenAI-compatible backend simulator: deterministic replies with exact
 * token usage, SSE streaming at a set pace, Azure-style TPM/RPM limits, per-request fault
 * injection through `x-sim-*` headers, and a standing fault switched at run time. Users point a
 * gateway config at it to test routing, retries, failover and limits without spending tokens; the
 * gateway's own tests use it the same way.
 */
export { startSimulator } from './server.ts';
export { runSimulateCli, SIMULATE_USAGE } from './cli.ts';
export type { SimulateCliDeps } from './cli.ts';
export { SIM_HEADERS } from './controls.ts';
export { SimulatorOptionError, DEFAULT_MODELS } from './options.ts';
export type { RecordedRequest, RunningSimulator, SimulatorOptions, SimulatorStats } from './options.ts';
export { SimulatorFaultError } from './standing-fault.ts';
export type { StandingFaultConfig, StandingFaultOptions, StandingFaultView } from './standing-fault.ts';
export { FAULT_CONTROL_PATH } from './fault-control.ts';
