/**
 * The size of a request's input, which the chain does not carry but its URI answers: a file://
 * URI is stat-ed, an http(s) one asked with HEAD (Content-Length). Moving a large input from the
 * consumer's region takes time that grows with distance, so the model weighs it (data-local
 * jobs). Unknown sizes are 0: the model then judges the job by its round trips alone.
 */
import { stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const MiB = 1024 * 1024;

export async function inputMiB(uri: string, timeoutMs = 2_000): Promise<number> {
  try {
    if (uri.startsWith("file:")) return (await stat(fileURLToPath(uri))).size / MiB;
    if (/^https?:\/\//.test(uri)) {
      const res = await fetch(uri, { method: "HEAD", signal: AbortSignal.timeout(timeoutMs) });
      const length = Number(res.headers.get("content-length"));
      return res.ok && Number.isFinite(length) && length >= 0 ? length / MiB : 0;
    }
  } catch {
    // unreachable or gone: unknown
  }
  return 0;
}
