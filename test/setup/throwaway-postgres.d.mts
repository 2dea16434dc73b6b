export interface ThrowawayPostgres {
  url: string;
  /** Stops it and deletes its data. */
  stop(): Promise<void>;
  /** Stops it, keeping its data (a database outage, for the tests of a server's recovery). */
  halt(): Promise<void>;
  /** Starts it again after halt(), on the same port and data. */
  resume(): Promise<void>;
}

/** Starts a PostgreSQL of its own: initdb into a temporary directory, then postgres on a free loopback port. */
export declare function startThrowawayPostgres(options?: { durable?: boolean }): Promise<ThrowawayPostgres>;
