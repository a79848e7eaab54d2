/** The first line of an error, for logs (ethers errors carry long payloads). */
export function briefError(error: unknown): string {
  if (error && typeof error === "object" && "shortMessage" in error && typeof error.shortMessage === "string") {
    const code = "code" in error ? ` [${String(error.code)}]` : "";
    // an error ethers could not classify: the node's own words say what happened
    const inner = "error" in error && error.error && typeof error.error === "object" && "message" in error.error ? `: ${String(error.error.message).split("\n")[0]}` : "";
    return error.shortMessage + code + inner;
  }
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}
