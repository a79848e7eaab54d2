/**
 * Runs the tasks of one key one after another, in call order (a failed task does not stop the
 * next), and the tasks of different keys side by side. A key is forgotten once its last task ends.
 */
export class KeyedChain<K> {
  private readonly tails = new Map<K, Promise<unknown>>();

  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(task);
    this.tails.set(key, next);
    const forget = () => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  }
}
