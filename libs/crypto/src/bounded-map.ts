// A Map holding at most `max` entries: adding a new key to a full map drops the oldest
// inserted one. For the small caches of keys this library keeps (imported or validated
// keys), which must stay bounded whatever keys an input brings.
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.max && !this.has(key)) {
      const oldest = this.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
