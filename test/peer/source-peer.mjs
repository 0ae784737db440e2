// A second Worker in the test configuration (vitest.config.ts `miniflare.workers`): a real HTTP
// peer the sources tests read from. The test Worker's global `fetch` is routed to it
// (`outboundService: "source-peer"`), so `fetch("http://peer.test/…")` from inside a Durable Object
// reaches this fetch handler as a real request (headers, status, streamed body), not a mock.
//
//   PUT  /files/<name>            store a file (its Content-Type is kept); a new ETag each time
//   GET  /files/<name>            serve it: ETag, Last-Modified, 304 on If-None-Match / If-Modified-Since
//   GET  /stats/<name>            { hits, conditional, notModified } for that file
//   GET  /redirect/<code>?to=URL  a redirect (Location: URL, relative or absolute)
//   GET  /slow/<name>?ms=N        the file, after N ms
//   GET  /trickle?ms=N            200 application/x-ndjson: one line, then nothing for N ms
//   GET  /big?lines=N             N NDJSON lines, streamed without a Content-Length
//   GET  /status/<code>           that status
//   GET  /headers                 the request's headers as a JSON array of { name, value }
const files = new Map();
const stats = new Map();
let version = 0;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function statsOf(name) {
  let s = stats.get(name);
  if (!s) {
    s = { hits: 0, conditional: 0, notModified: 0 };
    stats.set(name, s);
  }
  return s;
}

function serve(request, name) {
  const file = files.get(name);
  if (!file) return new Response("no such file", { status: 404 });
  const s = statsOf(name);
  s.hits++;
  const inm = request.headers.get("if-none-match");
  const ims = request.headers.get("if-modified-since");
  if (inm || ims) s.conditional++;
  if ((inm && inm === file.etag) || (!inm && ims && ims === file.lastModified)) {
    s.notModified++;
    return new Response(null, {
      status: 304,
      headers: { etag: file.etag, "last-modified": file.lastModified },
    });
  }
  const headers = {
    etag: file.etag,
    "last-modified": file.lastModified,
    "content-length": String(file.body.byteLength),
  };
  if (file.type) headers["content-type"] = file.type;
  return new Response(file.body, { headers });
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const [, route, ...rest] = url.pathname.split("/");
    const name = decodeURIComponent(rest.join("/"));
    if (route === "files" && request.method === "PUT") {
      version++;
      files.set(name, {
        body: new Uint8Array(await request.arrayBuffer()),
        type: request.headers.get("x-content-type") ?? "",
        etag: `"v${version}"`,
        lastModified: new Date(Date.UTC(2026, 10, 1) + version * 1000).toUTCString(),
      });
      return new Response("stored", { status: 201 });
    }
    if (route === "files") return serve(request, name);
    if (route === "stats") return Response.json(statsOf(name));
    if (route === "redirect")
      return new Response(null, {
        status: Number(rest[0]),
        headers: { location: url.searchParams.get("to") ?? "/" },
      });
    if (route === "slow") {
      await sleep(Number(url.searchParams.get("ms") ?? 1000));
      return serve(request, name);
    }
    if (route === "trickle") {
      const ms = Number(url.searchParams.get("ms") ?? 1000);
      const encoder = new TextEncoder();
      const body = new ReadableStream({
        async start(controller) {
          controller.enqueue(encoder.encode('{"a":1}\n'));
          await sleep(ms);
          controller.enqueue(encoder.encode('{"a":2}\n'));
          controller.close();
        },
      });
      return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
    }
    if (route === "big") {
      const lines = Number(url.searchParams.get("lines") ?? 1000);
      const encoder = new TextEncoder();
      let i = 0;
      const body = new ReadableStream({
        pull(controller) {
          if (i >= lines) return controller.close();
          let chunk = "";
          for (let k = 0; k < 500 && i < lines; k++, i++) chunk += `{"i":${i},"pad":"${"x".repeat(40)}"}\n`;
          controller.enqueue(encoder.encode(chunk));
        },
      });
      return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
    }
    if (route === "status") return new Response("status", { status: Number(rest[0]) });
    if (route === "headers")
      return Response.json([...request.headers].map(([name, value]) => ({ name, value })));
    return new Response("not found", { status: 404 });
  },
};
