// The one root logger, made in main and handed down; modules log through children. One JSON line
// per event on stdout (systemd puts it in the journal). Packet data are values, never keys.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination: pino.DestinationStream | number = 1): Logger {
  return pino(
    {
      level,
      base: { service: 'vpsfw' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    typeof destination === 'number' ? pino.destination({ dest: destination, sync: false }) : destination,
  );
}
