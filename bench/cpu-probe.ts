// Preloaded into every benchmark child with `node --import`, so the orchestrator
// can read µs-precise CPU time (getrusage covers all threads, exited ones too)
// from any process, Tollgate included, without the gateway knowing about it.
// /proc/<pid>/stat only has 10 ms ticks, which is ±1 % on a short run.

export interface CpuReply {
  type: 'cpu';
  id: number;
  user: number;
  system: number;
}

function isCpuQuery(msg: unknown): msg is { type: 'cpu'; id: number } {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'cpu';
}

const send = process.send?.bind(process);
if (send !== undefined) {
  process.on('message', (msg: unknown) => {
    if (!isCpuQuery(msg)) return;
    const { user, system } = process.cpuUsage();
    const reply: CpuReply = { type: 'cpu', id: msg.id, user, system };
    send(reply);
  });
  // The channel must not keep the child alive, and a child whose orchestrator
  // died (even by SIGKILL) must not linger holding a port.
  process.channel?.unref();
  process.on('disconnect', () => process.exit(0));
}
