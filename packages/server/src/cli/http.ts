// One request of a client verb to the service's API, with the problem
// document (RFC 9457) of a refusal turned into a readable error.
export async function apiRequest(url: string, apiKey: string, method: string, path: string, body?: unknown, accept = 'application/json'): Promise<Response> {
  const res = await fetch(`${url.replace(/\/+$/, '')}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, accept, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) {
    const text = await res.text();
    let detail = text;
    try {
      const p = JSON.parse(text) as { code?: string; detail?: string };
      detail = `${p.code ?? ''}: ${p.detail ?? text}`;
    } catch {
      // not a problem document: show the text as it is
    }
    throw new Error(`${method} ${path} refused (HTTP ${res.status}) ${detail}`);
  }
  return res;
}
