/** SQL conditions joined by AND, each `?` numbered as a parameter in the order they are added. */
export class Conditions {
  private readonly sql: string[] = [];
  readonly params: unknown[] = [];

  add(condition: string, ...values: unknown[]): void {
    this.sql.push(condition.replace(/\?/g, () => `$${this.params.push(values.shift())}`));
  }

  get count(): number {
    return this.sql.length;
  }

  where(): string {
    return this.sql.length ? `WHERE ${this.sql.join(' AND ')}` : '';
  }

  copy(): Conditions {
    const copy = new Conditions();
    copy.sql.push(...this.sql);
    copy.params.push(...this.params);
    return copy;
  }
}
