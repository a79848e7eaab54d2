/** The first line of an error, for logs (ethers errors carry long payloads). */
export function briefError(error: unknown): string {
  if (error && typeof error === "object" && "shortMessage" in error && typeof error.shortMessage === "string") {
    const code = "code" in error ? ` [${String(error.code)}]` : "";
    return error.shortMessage + code;
  }
  return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}
