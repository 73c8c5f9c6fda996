// The CrowdSec Local API over Node's fetch (undici): the bouncer's decisions stream, the machine's
// login and its alerts. Every request has a deadline that moves with progress (a big answer that
// keeps arriving is not cut, a stalled one is), https is verified as Node verifies it (docs/fleet.md:
// the service runs Node with the system CA store), and every error names the request, the status
// and the start of the answer's body. Knows nothing of bans, policies or retries.
import { VpsfwError } from '../errors.js';
import { StreamParser, type StreamedDecision } from './stream-parser.js';

export interface LapiClientOptions {
  /** The LAPI's base URL, e.g. "http://127.0.0.1:8080/". */
  url: string;
  /** A request that makes no progress (no answer, no new bytes) for this long has failed, ms. */
  timeoutMs: number;
  userAgent: string;
  /** Replaced by tests. */
  fetch?: typeof fetch;
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

/** Causes of a failed fetch that mean the request never left: the LAPI has seen nothing. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

const shorten = (text: string) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > BODY_SHOWN ? `${flat.slice(0, BODY_SHOWN)}… (${flat.length} characters)` : flat;
};

export class LapiClient {
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #fetch: typeof fetch;

  constructor(opts: LapiClientOptions) {
    this.#base = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    this.#timeoutMs = opts.timeoutMs;
    this.#userAgent = opts.userAgent;
    this.#fetch = opts.fetch ?? fetch;
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
    const path = `v1/decisions/stream?startup=${startup}&scopes=ip,range`;
    const { response, endpoint, progress, failure, done } = await this.#request('GET', path, { 'X-Api-Key': apiKey }, undefined, signal);
    try {
      if (!response.ok) throw await this.#statusError(endpoint, response);
      if (!response.body) throw new LapiError('VPSFW_ERR_CROWDSEC_API', endpoint, response.status, 'an answer without a body');
      const parser = new StreamParser();
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body) {
          progress();
          const items = parser.push(decoder.decode(chunk, { stream: true }));
          if (items.length > 0) yield items;
        }
        parser.push(decoder.decode());
        parser.end();
      } catch (err) {
        if (err instanceof SyntaxError) throw new LapiError('VPSFW_ERR_CROWDSEC_API', endpoint, response.status, `not the decisions stream's JSON (${err.message})`);
        throw failure(err);
      }
    } finally {
      done();
    }
  }

  /** POST /v1/watchers/login: a JWT for the machine, and when it runs out (epoch ms). */
  async login(machineId: string, password: string, scenarios: readonly string[], signal?: AbortSignal): Promise<{ token: string; expiresAt: number }> {
    const answer = (await this.#json('POST', 'v1/watchers/login', {}, { machine_id: machineId, password, scenarios }, signal)) as { token?: unknown; expire?: unknown };
    const expiresAt = typeof answer.expire === 'string' ? Date.parse(answer.expire) : NaN;
    if (typeof answer.token !== 'string' || !Number.isFinite(expiresAt)) {
      throw new LapiError('VPSFW_ERR_CROWDSEC_API', 'POST /v1/watchers/login', 200, 'no token and expiry in the answer', shorten(JSON.stringify(answer)));
    }
    return { token: answer.token, expiresAt };
  }

  /** POST /v1/alerts: the alerts and their decisions; returns the ids the LAPI gave them. */
  async pushAlerts(token: string, alerts: readonly LapiAlert[], signal?: AbortSignal): Promise<string[]> {
    const ids = await this.#json('POST', 'v1/alerts', { Authorization: `Bearer ${token}` }, alerts, signal);
    return Array.isArray(ids) ? ids.map(String) : [];
  }

  async #json(method: string, path: string, headers: Record<string, string>, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const { response, endpoint, failure, done } = await this.#request(method, path, { ...headers, 'Content-Type': 'application/json' }, JSON.stringify(body), signal);
    try {
      if (!response.ok) throw await this.#statusError(endpoint, response);
      const text = await response.text().catch((err: unknown) => {
        throw failure(err);
      });
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new LapiError('VPSFW_ERR_CROWDSEC_API', endpoint, response.status, 'an answer that is not JSON', shorten(text));
      }
    } finally {
      done();
    }
  }

  /**
   * Sends the request with a deadline that `progress()` moves on; `done()` clears it. A deadline
   * passed aborts the request and whatever of its body is still being read; `failure(err)` is the
   * error to throw for what went wrong while reading (the deadline's, when it was that).
   */
  async #request(method: string, path: string, headers: Record<string, string>, body: string | undefined, signal?: AbortSignal) {
    const url = new URL(path, this.#base);
    // The URL without its query: it names the LAPI and the call, never a secret (those are headers).
    const endpoint = `${method} ${url.origin}${url.pathname}`;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new LapiError('VPSFW_ERR_CROWDSEC_UNREACHABLE', endpoint, 0, `no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    const onOuter = () => abort.abort(signal?.reason);
    signal?.addEventListener('abort', onOuter, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onOuter);
    };
    const failure = (err: unknown) => this.#transportError(endpoint, abort.signal.aborted ? abort.signal.reason : err);
    try {
      const response = await this.#fetch(url, { method, headers: { 'User-Agent': this.#userAgent, Accept: 'application/json', ...headers }, body, signal: abort.signal, redirect: 'error' });
      timer.refresh();
      return { response, endpoint, progress: () => timer.refresh(), failure, done };
    } catch (err) {
      done();
      throw failure(err);
    }
  }

  #transportError(endpoint: string, err: unknown): unknown {
    if (err instanceof LapiError) return err;
    if (err instanceof Error && err.name === 'AbortError') return err;
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
    const code = cause?.code ?? '';
    const detail = cause?.message ?? (err as Error)?.message ?? String(err);
    return new LapiError('VPSFW_ERR_CROWDSEC_UNREACHABLE', endpoint, 0, `no answer (${code ? `${code}: ` : ''}${detail})`, '', { cause: err, mayHaveArrived: !NOT_SENT.has(code) });
  }

  async #statusError(endpoint: string, response: Response): Promise<LapiError> {
    const body = shorten(await response.text().catch(() => ''));
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    const auth = response.status === 401 || response.status === 403;
    return new LapiError(auth ? 'VPSFW_ERR_CROWDSEC_AUTH' : 'VPSFW_ERR_CROWDSEC_API', endpoint, response.status, status, body);
  }
}
