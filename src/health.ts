/** One component's health as /healthz shows it. */
export interface HealthCheck {
  ok: boolean;
  /** Anything an operator needs to see: lag, the server URL, the error. */
  [detail: string]: unknown;
}

/** Named health checks that /healthz runs; every role registers its own. */
export class Health {
  readonly #checks = new Map<string, () => Promise<HealthCheck> | HealthCheck>();

  register(name: string, check: () => Promise<HealthCheck> | HealthCheck): void {
    this.#checks.set(name, check);
  }

  /** Runs every check with a time bound, so a hung dependency reports unhealthy instead of hanging. */
  async run(timeoutMs = 2000): Promise<{ ok: boolean; checks: Record<string, HealthCheck> }> {
    const checks: Record<string, HealthCheck> = {};
    await Promise.all(
      [...this.#checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          checks[name] = await Promise.race([
            Promise.resolve(check()),
            new Promise<HealthCheck>((resolve) => {
              timer = setTimeout(() => resolve({ ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
            }),
          ]);
        } catch (err) {
          checks[name] = { ok: false, error: (err as Error).message };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  }
}
