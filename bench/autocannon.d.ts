/** The slice of autocannon 9 (programmatic API) the read-path bench uses. */
declare module 'autocannon' {
  export interface Options {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Per-request setup: `setupRequest` may replace the request (e.g. its body). */
    requests?: { setupRequest?: (request: object) => object }[];
  }
  export interface Histogram {
    average: number;
    mean: number;
    p50: number;
    p90: number;
    p99: number;
    max: number;
  }
  export interface Result {
    requests: Histogram & { total: number };
    latency: Histogram;
    throughput: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
  }
  function autocannon(options: Options): Promise<Result>;
  namespace autocannon {
    /**
     * Off the main thread autocannon returns its histograms encoded (to be merged across
     * workers); this decodes one or more such results into a `Result`.
     */
    function aggregateResult(results: readonly unknown[], options: Options): Result;
  }
  export default autocannon;
}
