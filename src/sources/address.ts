/**
 * Whether a URL's host names a private, loopback, link-local or otherwise internal address, by its
 * text: IPv4 and IPv6 literals (dotted, and the other IPv4 spellings the URL parser normalises),
 * `localhost` and `*.localhost`, `.local` / `.internal` names. A Worker cannot resolve DNS itself,
 * so a public name that resolves to a private address is not caught here (Cloudflare's own fetch
 * from a deployed Worker does not reach private networks; a local runtime does).
 */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (host.endsWith(".local") || host.endsWith(".internal") || host.endsWith(".lan")) return true;
  if (host.startsWith("[")) return privateV6(host.slice(1, -1));
  const v4 = ipv4(host);
  return v4 !== undefined && privateV4(v4);
}

/** The URL parser has already turned `0x7f.1`, `2130706433` and the like into dotted form. */
function ipv4(host: string): number[] | undefined {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

function privateV4([a, b]: number[]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}

function privateV6(host: string): boolean {
  const h = host.replace(/%.*$/, "");
  if (h === "::" || h === "::1") return true;
  // IPv4-mapped (::ffff:a.b.c.d, or the hex form the URL parser writes) and IPv4-compatible.
  const mapped = /^::(?:ffff:)?(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(h);
  if (mapped) {
    if (mapped[1]) return privateV4(mapped[1].split(".").map(Number));
    const hi = Number.parseInt(mapped[2], 16);
    const lo = Number.parseInt(mapped[3], 16);
    return privateV4([hi >> 8, hi & 255, lo >> 8, lo & 255]);
  }
  const first = Number.parseInt(h.split(":")[0] || "0", 16);
  return (
    (first & 0xfe00) === 0xfc00 || // fc00::/7 unique local
    (first & 0xffc0) === 0xfe80 || // fe80::/10 link local
    (first & 0xff00) === 0xff00 // multicast
  );
}
