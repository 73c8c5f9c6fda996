// A failed request to the CrowdSec LAPI. Apart from the client, so that what only handles its
// errors (the follower, the reporter, their retries) loads no HTTPS stack: an agent without a
// crowdsec section never loads node:https (8 MiB on Node.js 24).
import { VpsfwError } from '../errors.js';

/** The error of one request: `endpoint` is the method and path, `status` the HTTP status (0: no answer). */
export class LapiError extends VpsfwError {
  readonly endpoint: string;
  readonly status: number;
  readonly body: string;
  /** False when the request cannot have reached the LAPI (refused, unroutable, name unknown). */
  readonly mayHaveArrived: boolean;
  constructor(code: 'VPSFW_ERR_CROWDSEC_UNREACHABLE' | 'VPSFW_ERR_CROWDSEC_AUTH' | 'VPSFW_ERR_CROWDSEC_API', endpoint: string, status: number, detail: string, body = '', opts: { cause?: unknown; mayHaveArrived?: boolean } = {}) {
    super(code, `CrowdSec LAPI ${endpoint}: ${detail}${body ? `: ${body}` : ''}`, { cause: opts.cause });
    this.name = 'LapiError';
    this.endpoint = endpoint;
    this.status = status;
    this.body = body;
    this.mayHaveArrived = opts.mayHaveArrived ?? true;
  }
}
