// The one Node API the rpc part uses (workerd provides it with nodejs_compat): the caller of a
// socket call, carried across the method's awaits.
declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    getStore(): T | undefined;
    run<R>(store: T, fn: () => R): R;
  }
}
