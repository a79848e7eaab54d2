import { fetchBlob, type FetchOptions } from "./fetch-blob.js";

/** A part of a job's content: the module or the input bundle. */
export type ContentPart = "module" | "input";

/**
 * Fetches one part of a job's content by its URI (policy, size cap and sha-256 as `opts` say).
 * An empty module is no module: the host, its matchmaker and the verifiers all count it
 * unavailable, so the rule lives here once.
 */
export async function fetchJobContent(what: ContentPart, uri: string, opts: FetchOptions): Promise<Uint8Array> {
  const bytes = await fetchBlob(uri, opts);
  if (what === "module" && bytes.length === 0) throw new Error("the module is empty");
  return bytes;
}
