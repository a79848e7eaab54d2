/** A module that is well-formed but not admitted (a disallowed feature, a limit); the message names why. */
export class AdmissionError extends Error {
  override name = "AdmissionError";
}
