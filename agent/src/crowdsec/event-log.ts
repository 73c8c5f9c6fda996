// What the CrowdSec modules write to: one event per call, `{event, ...fields}` and a short message
// (docs/events.md). The agent's pino logger is one; unit tests record the calls.
export interface EventLog {
  info(fields: { event: string; [k: string]: unknown }, msg: string): void;
  warn(fields: { event: string; [k: string]: unknown }, msg: string): void;
  error(fields: { event: string; [k: string]: unknown }, msg: string): void;
}
