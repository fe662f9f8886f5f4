/** Splits a multipart/related body (WADO-RS responses) into its parts' bodies. Pure. */
export function boundaryOf(contentType: string): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  outer: for (let i = hay.indexOf(first, from); i >= 0 && i <= hay.length - needle.length; i = hay.indexOf(first, i + 1)) {
    for (let k = 1; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

export interface RelatedPart {
  headers: Record<string, string>;
  body: Uint8Array;
}

export function parseMultipartRelated(body: Uint8Array, boundary: string): RelatedPart[] {
  const delimiter = new TextEncoder().encode(`--${boundary}`);
  const parts: RelatedPart[] = [];
  let at = indexOf(body, delimiter, 0);
  while (at >= 0) {
    let start = at + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing delimiter
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    else if (body[start] === 0x0a) start += 1;
    const next = indexOf(body, delimiter, start);
    if (next < 0) break;
    // The CRLF before the next delimiter belongs to the delimiter.
    let end = next;
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    else if (body[end - 1] === 0x0a) end -= 1;
    const part = body.subarray(start, end);
    const headerEnd = indexOf(part, new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a]), 0);
    const split = headerEnd >= 0 ? headerEnd : indexOf(part, new Uint8Array([0x0a, 0x0a]), 0);
    const headers: Record<string, string> = {};
    if (split >= 0) {
      for (const line of new TextDecoder().decode(part.subarray(0, split)).split(/\r?\n/)) {
        const c = line.indexOf(':');
        if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
      }
    }
    parts.push({ headers, body: split >= 0 ? part.subarray(split + (headerEnd >= 0 ? 4 : 2)) : part });
    at = next;
  }
  return parts;
}
