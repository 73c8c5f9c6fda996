// The CrowdSec Local API over Node's own http and https modules: the bouncer's decisions stream, the
// machine's login and its alerts. Not fetch: Node 20's fetch loads undici on first use, which
// costs the agent about 40 MiB at its peak and 10 MiB for good (docs/benchmarks.md, CrowdSec), half
// its memory budget; http costs 3. Every request has a deadline that moves with progress (a big
// answer that keeps arriving is not cut, a stalled one is), https is verified against the CA store
// Node is given (the units give it the system's: docs/fleet.md), redirects are not followed, and
// every error names the request, the status and the start of the answer's body. Knows nothing of
// bans, policies or retries.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { LapiError } from './lapi-error.js';
import { StreamParser, type StreamedDecision } from './stream-parser.js';

export interface LapiClientOptions {
  /** The LAPI's base URL, e.g. "http://127.0.0.1:8080/". */
  url: string;
  /** A request that makes no progress (no answer, no new bytes) for this long has failed, ms. */
  timeoutMs: number;
  userAgent: string;
}

/** An alert as POST /v1/alerts takes it (`models.Alert`). */
export interface LapiAlert {
  scenario: string;
  scenario_hash: string;
  scenario_version: string;
  message: string;
  events_count: number;
  start_at: string;
  stop_at: string;
  capacity: number;
  leakspeed: string;
  simulated: boolean;
  remediation: boolean;
  events: Array<{ timestamp: string; meta: Array<{ key: string; value: string }> }>;
  source: { scope: string; value: string; ip?: string; range?: string };
  decisions: Array<{ origin: string; type: string; scope: string; value: string; duration: string; scenario: string }>;
}

const BODY_SHOWN = 300;

/**
 * The decisions stream is parsed this many bytes of the answer at a time, each piece's decisions
 * applied before the next is read: its text and its decisions die young. A whole 64 KiB chunk and
 * its four hundred decisions outlived the 1 MiB young generation while they were applied, and
 * were promoted: about 23 MiB of the old generation over a load of 100,000 decisions.
 */
const PIECE_BYTES = 16 * 1024;

/** Causes of a failed connection that mean the request never left: the LAPI has seen nothing. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

const shorten = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > BODY_SHOWN ? `${flat.slice(0, BODY_SHOWN)}… (${flat.length} characters)` : flat;
};

export class LapiClient {
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #userAgent: string;

  constructor(opts: LapiClientOptions) {
    this.#base = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    this.#timeoutMs = opts.timeoutMs;
    this.#userAgent = opts.userAgent;
  }

  get url(): string {
    return this.#base.href;
  }

  /**
   * GET /v1/decisions/stream: the decisions new and deleted since this bouncer's last pull (the LAPI
   * keeps that mark), or with `startup` all that are in force and those that have ended. Yields
   * the decisions of each piece of the answer as it arrives; the caller's pace is the read's pace.
   */
  async *decisionsStream(apiKey: string, startup: boolean, signal?: AbortSignal): AsyncGenerator<StreamedDecision[]> {
    const call = this.#call('GET', `v1/decisions/stream?startup=${startup}&scopes=ip,range`, { 'X-Api-Key': apiKey }, undefined, signal);
    try {
      const response = await call.response;
      if (response.statusCode !== 200) throw await this.#statusError(call.endpoint, response);
      const parser = new StreamParser();
      const decoder = new StringDecoder('utf8');
      try {
        for await (const chunk of response) {
          call.progress();
          const bytes = chunk as Buffer;
          for (let at = 0; at < bytes.length; at += PIECE_BYTES) {
            const items = parser.push(decoder.write(bytes.subarray(at, at + PIECE_BYTES)));
            if (items.length > 0) yield items;
          }
        }
        parser.push(decoder.end());
        parser.end();
      } catch (err) {
        if (err instanceof SyntaxError) throw new LapiError('VPSFW_ERR_CROWDSEC_API', call.endpoint, 200, `not the decisions stream's JSON (${err.message})`);
        throw call.failure(err);
      }
    } finally {
      call.done();
    }
  }

  /** POST /v1/watchers/login: a JWT for the machine, and when it runs out (epoch ms). */
  async login(machineId: string, password: string, scenarios: readonly string[], signal?: AbortSignal): Promise<{ token: string; expiresAt: number }> {
    const answer = (await this.#json('POST', 'v1/watchers/login', {}, { machine_id: machineId, password, scenarios }, signal)) as { token?: unknown; expire?: unknown };
    const expiresAt = typeof answer.expire === 'string' ? Date.parse(answer.expire) : NaN;
    if (typeof answer.token !== 'string' || !Number.isFinite(expiresAt)) {
      throw new LapiError('VPSFW_ERR_CROWDSEC_API', `POST ${this.#base.origin}/v1/watchers/login`, 200, 'no token and expiry in the answer', shorten(JSON.stringify(answer)));
    }
    return { token: answer.token, expiresAt };
  }

  /** POST /v1/alerts: the alerts and their decisions; returns the ids the LAPI gave them. */
  async pushAlerts(token: string, alerts: readonly LapiAlert[], signal?: AbortSignal): Promise<string[]> {
    const ids = await this.#json('POST', 'v1/alerts', { Authorization: `Bearer ${token}` }, alerts, signal);
    return Array.isArray(ids) ? ids.map(String) : [];
  }

  async #json(method: string, path: string, headers: Record<string, string>, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const call = this.#call(method, path, { ...headers, 'Content-Type': 'application/json' }, JSON.stringify(body), signal);
    try {
      const response = await call.response;
      if (response.statusCode === undefined || response.statusCode < 200 || response.statusCode > 299) throw await this.#statusError(call.endpoint, response);
      const text = await readText(response, Infinity, call.progress).catch((err: unknown) => {
        throw call.failure(err);
      });
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new LapiError('VPSFW_ERR_CROWDSEC_API', call.endpoint, response.statusCode, 'an answer that is not JSON', shorten(text));
      }
    } finally {
      call.done();
    }
  }

  /**
   * Sends the request with a deadline that `progress()` moves on; `done()` clears it. A deadline
   * passed destroys the request and whatever of its answer is still being read; `failure(err)` is
   * the error to throw for what went wrong (the deadline's, when it was that).
   */
  #call(method: string, path: string, headers: Record<string, string>, body: string | undefined, signal?: AbortSignal) {
    const url = new URL(path, this.#base);
    // The URL without its query: it names the LAPI and the call, never a secret (those are headers).
    const endpoint = `${method} ${url.origin}${url.pathname}`;
    let timedOut: LapiError | null = null;
    const failure = (err: unknown) => this.#transportError(endpoint, timedOut ?? err);
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method,
      headers: { 'User-Agent': this.#userAgent, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Length': Buffer.byteLength(body) }), ...headers },
      ...(signal ? { signal } : {}),
    });
    const timer = setTimeout(() => {
      timedOut = new LapiError('VPSFW_ERR_CROWDSEC_UNREACHABLE', endpoint, 0, `no answer within ${this.#timeoutMs} ms`);
      req.destroy(timedOut);
    }, this.#timeoutMs);
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', (res) => {
        timer.refresh();
        resolve(res);
      });
      // Kept for the whole call: an error after the answer began (a reset, the deadline) is the body's to report.
      req.on('error', (err) => reject(failure(err)));
    });
    req.end(body);
    return {
      endpoint,
      response,
      progress: () => timer.refresh(),
      failure,
      done: () => {
        clearTimeout(timer);
        req.destroy();
      },
    };
  }

  #transportError(endpoint: string, err: unknown): unknown {
    if (err instanceof LapiError) return err;
    if (err instanceof Error && err.name === 'AbortError') return err;
    const code = (err as { code?: string })?.code ?? '';
    const detail = (err as Error)?.message ?? String(err);
    return new LapiError('VPSFW_ERR_CROWDSEC_UNREACHABLE', endpoint, 0, `no answer (${code && !detail.includes(code) ? `${code}: ` : ''}${detail})`, '', { cause: err, mayHaveArrived: !NOT_SENT.has(code) });
  }

  async #statusError(endpoint: string, response: IncomingMessage): Promise<LapiError> {
    const body = shorten(await readText(response, BODY_READ).catch(() => ''));
    const status = `${response.statusCode}${response.statusMessage ? ` ${response.statusMessage}` : ''}`;
    const auth = response.statusCode === 401 || response.statusCode === 403;
    return new LapiError(auth ? 'VPSFW_ERR_CROWDSEC_AUTH' : 'VPSFW_ERR_CROWDSEC_API', endpoint, response.statusCode ?? 0, status, body);
  }
}

/** An error's body is read this far at most: the message shows its start. */
const BODY_READ = 64 * 1024;

/** The answer's body as text, `limit` characters at most. */
async function readText(response: IncomingMessage, limit: number, progress?: () => void): Promise<string> {
  response.setEncoding('utf8');
  let text = '';
  for await (const chunk of response) {
    progress?.();
    text += chunk as string;
    if (text.length >= limit) break;
  }
  return text;
}
