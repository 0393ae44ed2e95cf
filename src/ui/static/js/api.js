// The analyzer's REST API, as the page uses it. Errors are returned, not thrown, so that each panel can show the
// analyzer's own message (a Gremlin error names the column where parsing failed).

/** @typedef {{ok: true, status: number, data: unknown} | {ok: false, status: number, error: string, code?: string}} ApiResult */

/**
 * The analyzer's error as it sent it: a JSON error `{code, message}` gives its message and code, anything else
 * is shown as plain text.
 */
export function parseError(body) {
  const text = String(body ?? '').trim();
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && typeof parsed.message === 'string') {
      return { error: parsed.message, code: typeof parsed.code === 'string' ? parsed.code : undefined };
    }
    if (typeof parsed === 'string') return { error: parsed };
  } catch {
    /* plain text: shown as is */
  }
  return { error: text };
}

async function call(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    return { ok: false, status: 0, error: `analyzer unreachable: ${err.message ?? err}` };
  }
  const text = await res.text();
  if (!res.ok) {
    const { error, code } = parseError(text);
    return { ok: false, status: res.status, error: error || res.statusText, code };
  }
  if (res.status === 204 || text === '') return { ok: true, status: res.status, data: null };
  try {
    return { ok: true, status: res.status, data: JSON.parse(text) };
  } catch {
    return { ok: true, status: res.status, data: text };
  }
}

/** @returns {Promise<ApiResult>} */
export function gremlin(query) {
  return call('POST', '/api/topology', { GremlinQuery: query });
}

/** @returns {Promise<ApiResult>} */
export function status() {
  return call('GET', '/api/status');
}

/** @returns {Promise<ApiResult>} {Host, Version, Service} */
export function info() {
  return call('GET', '/api');
}

/** Gremlin string literal for an ID: the dialect has no escapes, so pick the quote the value does not contain. */
export function quote(value) {
  const s = String(value);
  return s.includes("'") ? `"${s}"` : `'${s}'`;
}
